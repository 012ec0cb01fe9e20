package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// findRoot returns the nearest directory at or above dir whose go.mod
// declares the library module.
func findRoot(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && modulePath(string(data)) == libraryModule {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod of module %s at or above %s", libraryModule, dir)
		}
	}
}

// modulePath returns the path of the module directive of a go.mod file, or
// "" if it has none.
func modulePath(gomod string) string {
	for line := range strings.Lines(gomod) {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`)
		}
	}
	return ""
}

// findModules returns the directories under root, root included, that hold
// a go.mod file, relative to root and slash-separated ("." for root): root
// first, then in lexical order. Hidden directories and directories named
// testdata or vendor are not searched.
func findModules(root string) ([]string, error) {
	var mods []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if p != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Name() != "go.mod" {
			return nil
		}
		rel, err := filepath.Rel(root, filepath.Dir(p))
		if err != nil {
			return err
		}
		mods = append(mods, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !slices.Contains(mods, ".") {
		return nil, errors.New("no go.mod at the repository root")
	}
	slices.SortFunc(mods, func(a, b string) int {
		switch {
		case a == b:
			return 0
		case a == ".":
			return -1
		case b == ".":
			return 1
		}
		return strings.Compare(a, b)
	})
	return mods, nil
}

// skipped returns the module directories to skip: those of the -skip flag
// (a comma-separated list), and e2e when skipE2E is set.
func skipped(flagValue string, skipE2E bool) map[string]bool {
	skip := map[string]bool{}
	for s := range strings.SplitSeq(flagValue, ",") {
		if s = strings.TrimSpace(s); s != "" {
			skip[filepath.ToSlash(filepath.Clean(s))] = true
		}
	}
	if skipE2E {
		skip["e2e"] = true
	}
	return skip
}
