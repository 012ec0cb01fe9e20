package main

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// row is one benchmark (a sub-benchmark of a group) with all its samples.
type row struct {
	group   string // top-level benchmark, without "Benchmark": "Success"
	name    string // sub-benchmark: "fluxgate"
	samples []map[string]float64
}

// results are the parsed rows, in the order they first appeared.
type results struct {
	cpu  string // from the "cpu:" line of go test
	rows []*row
	by   map[string]*row // "group/name"
}

func (r *results) row(key string) *row {
	if r == nil {
		return nil
	}
	return r.by[key]
}

// parse reads `go test -bench` output. Lines that are not results are
// skipped; a malformed result line is an error.
func parse(rd io.Reader) (*results, error) {
	res := &results{by: map[string]*row{}}
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "cpu: "); ok && res.cpu == "" {
			res.cpu = strings.TrimSpace(v)
			continue
		}
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || len(f)%2 != 0 {
			// "BenchmarkX" alone is the name line printed before a
			// sub-benchmark's output, or a benchmark that failed.
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		key := trimProcs(strings.TrimPrefix(f[0], "Benchmark"))
		group, name, ok := strings.Cut(key, "/")
		if !ok {
			name = "-"
		}
		s := map[string]float64{}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("bad value %q in %q", f[i], line)
			}
			s[f[i+1]] = v
		}
		r := res.by[group+"/"+name]
		if r == nil {
			r = &row{group: group, name: name}
			res.by[group+"/"+name] = r
			res.rows = append(res.rows, r)
		}
		r.samples = append(r.samples, s)
	}
	return res, sc.Err()
}

// trimProcs drops the -GOMAXPROCS suffix go test adds to a name.
func trimProcs(name string) string {
	i := strings.LastIndexByte(name, '-')
	if i < 0 || i == len(name)-1 {
		return name
	}
	if _, err := strconv.Atoi(name[i+1:]); err != nil {
		return name
	}
	return name[:i]
}

// values returns the samples of unit.
func (r *row) values(unit string) []float64 {
	var vs []float64
	for _, s := range r.samples {
		if v, ok := s[unit]; ok {
			vs = append(vs, v)
		}
	}
	return vs
}

// median returns the median of unit over the samples.
func (r *row) median(unit string) (float64, bool) {
	if r == nil {
		return 0, false
	}
	vs := r.values(unit)
	if len(vs) == 0 {
		return 0, false
	}
	slices.Sort(vs)
	n := len(vs)
	if n%2 == 1 {
		return vs[n/2], true
	}
	return (vs[n/2-1] + vs[n/2]) / 2, true
}

// spread returns half the interquartile range of unit over the samples,
// as a fraction of the median: robust to the odd sample that a burst of
// load on the machine slowed down.
func (r *row) spread(unit string) float64 {
	m, ok := r.median(unit)
	if !ok || m == 0 {
		return 0
	}
	vs := r.values(unit)
	slices.Sort(vs)
	return (quantile(vs, 0.75) - quantile(vs, 0.25)) / 2 / m
}

// quantile returns the q-quantile of sorted vs, interpolating linearly.
func quantile(vs []float64, q float64) float64 {
	if len(vs) == 1 {
		return vs[0]
	}
	pos := q * float64(len(vs)-1)
	i := int(pos)
	if i+1 >= len(vs) {
		return vs[len(vs)-1]
	}
	return vs[i] + (pos-float64(i))*(vs[i+1]-vs[i])
}

// units lists the units of r other than the standard ones, in a stable
// order.
func (r *row) extraUnits() []string {
	seen := map[string]bool{}
	var us []string
	for _, s := range r.samples {
		for u := range s {
			if u != "ns/op" && u != "B/op" && u != "allocs/op" && !seen[u] {
				seen[u] = true
				us = append(us, u)
			}
		}
	}
	slices.Sort(us)
	return us
}
