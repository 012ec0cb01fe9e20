package e2e

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"time"
)

// checks collects the comparisons of a test, to report them as one
// table.
type checks struct {
	rows []checkRow
}

// checkRow is one comparison: the values of a breakdown (keys) as the
// ground truth has them and as a backend reported them.
type checkRow struct {
	source, check, scope string
	compared             int     // values compared
	want, got            float64 // their sums
	mismatches           []string
}

// compare compares want with got, key by key.
func (c *checks) compare(source, check, scope string, want, got map[string]float64) bool {
	row := checkRow{source: source, check: check, scope: scope}
	for _, k := range sortedKeys(want, got) {
		row.compared++
		row.want += want[k]
		row.got += got[k]
		if want[k] != got[k] {
			row.mismatches = append(row.mismatches, fmt.Sprintf("%s: want %v, got %v", k, want[k], got[k]))
		}
	}
	c.rows = append(c.rows, row)
	return len(row.mismatches) == 0
}

// expect records a single condition as a row: want and got are counts.
func (c *checks) expect(source, check, scope string, want, got int, detail ...string) {
	row := checkRow{source: source, check: check, scope: scope, compared: 1, want: float64(want), got: float64(got)}
	if want != got {
		row.mismatches = append(row.mismatches, fmt.Sprintf("want %d, got %d", want, got))
	}
	row.mismatches = append(row.mismatches, detail...)
	c.rows = append(c.rows, row)
}

// eventually polls query until its result equals want (data travels
// through the Collector's queue and Prometheus' ingestion on its own time)
// or the timeout ends, and records the last comparison.
func (c *checks) eventually(source, check, scope string, want map[string]float64, query func() (map[string]float64, error)) {
	var got map[string]float64
	var qerr error
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_ = waitFor(ctx, 200*time.Millisecond, func() error {
		got, qerr = query()
		if qerr == nil && maps.Equal(got, want) {
			return nil
		}
		return fmt.Errorf("not yet")
	})
	if qerr != nil {
		c.rows = append(c.rows, checkRow{source: source, check: check, scope: scope, compared: len(want),
			mismatches: []string{qerr.Error()}})
		return
	}
	c.compare(source, check, scope, want, got)
}

// report logs the table and fails t for every mismatch.
func (c *checks) report(t *testing.T) {
	t.Helper()
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SOURCE\tCHECK\tSCOPE\tVALUES\tWANT\tGOT\tMISMATCHES")
	total, values := 0, 0
	for _, r := range c.rows {
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\t%s\t%d\n", r.source, r.check, r.scope, r.compared, num(r.want), num(r.got), len(r.mismatches))
		total += len(r.mismatches)
		values += r.compared
	}
	w.Flush()
	t.Logf("compared %d values in %d checks, %d mismatches\n%s", values, len(c.rows), total, b.String())
	for _, r := range c.rows {
		for _, m := range r.mismatches {
			t.Errorf("%s %s %s: %s", r.source, r.check, r.scope, m)
		}
	}
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func itoa(i int64) string { return strconv.FormatInt(i, 10) }
