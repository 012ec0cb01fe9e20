package tracker_test

// FuzzTrackerComposition builds a random rule tree — every leaf, Named, Not
// (function and method), And and Or (n-ary and method), a foreign Tracker,
// and invalid constructs — and a random error (plain, wrapped, joined),
// then checks Track against a direct evaluation of the tree written here:
// the decision, the label of the deciding rule (and that it names only a
// rule that matched the error, or a Named one), which Custom funcs ran and
// in what order (short-circuit), validation (Err), and that an invalid rule
// counts everything as "all".

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/fluxgate/fluxgate/sdk"
	"github.com/fluxgate/fluxgate/sdk/tracker"
)

type fzErrA struct{}

func (*fzErrA) Error() string { return "a" }

type fzErrB struct{}

func (*fzErrB) Error() string   { return "b" }
func (*fzErrB) Temporary() bool { return true }

// fzTemporary is an interface error type, implemented by *fzErrB and by
// context.DeadlineExceeded.
type fzTemporary interface {
	error
	Temporary() bool
}

var (
	errFzS1 = errors.New("sentinel 1")
	errFzS2 = errors.New("sentinel 2")
)

type fzCtxKey struct{}

// fzFacts is what an error's chain holds, by construction.
type fzFacts struct{ a, b, s1, s2, deadline bool }

func (f *fzFacts) or(g fzFacts) {
	f.a, f.b, f.s1, f.s2, f.deadline = f.a || g.a, f.b || g.b, f.s1 || g.s1, f.s2 || g.s2, f.deadline || g.deadline
}

type fzBytes struct{ b []byte }

func (r *fzBytes) next() int {
	if len(r.b) == 0 {
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return int(v)
}

// fzMakeErr decodes an error and the facts about its chain.
func fzMakeErr(r *fzBytes, depth int) (fzFacts, error) {
	k := r.next() % 9
	if depth >= 3 && k >= 6 {
		k %= 6
	}
	switch k {
	case 0:
		return fzFacts{a: true}, &fzErrA{}
	case 1:
		return fzFacts{b: true}, &fzErrB{}
	case 2:
		return fzFacts{s1: true}, errFzS1
	case 3:
		return fzFacts{s2: true}, errFzS2
	case 4:
		return fzFacts{deadline: true}, context.DeadlineExceeded
	case 5:
		return fzFacts{}, errors.New("plain")
	case 6, 7:
		f, inner := fzMakeErr(r, depth+1)
		return f, fmt.Errorf("wrapped: %w", inner)
	default:
		f1, e1 := fzMakeErr(r, depth+1)
		f2, e2 := fzMakeErr(r, depth+1)
		f1.or(f2)
		return f1, errors.Join(e1, e2)
	}
}

// Node kinds.
const (
	fzAll = iota
	fzTypeA
	fzTypeB
	fzTypeTemp
	fzIs
	fzCustom
	fzNamed
	fzNot
	fzAnd
	fzOr
	fzForeign
	fzNil // a nil operand (invalid)
	fzKinds
)

var fzLabels = []string{"", "net", "server", "x"}

// fzNode is the decoded tree: the reference evaluates it, build makes the
// rule.
type fzNode struct {
	kind    int
	kids    []*fzNode
	label   string
	targets []error
	pred    int // Custom: 0 chain has A, 1 ctx has the value, 2 true, 3 false, -1 nil func
	id      int // Custom call id
	method  bool
	typed   bool // fzNil: a nil *Rule rather than a nil Tracker
	dec     sdk.Decision
	rule    string
}

func fzDecode(r *fzBytes, depth int, ids *int, top bool) *fzNode {
	n := &fzNode{kind: r.next() % fzKinds}
	if depth >= 4 && n.kind >= fzNamed && n.kind <= fzOr {
		n.kind = fzAll + r.next()%(fzCustom+1)
	}
	if top && (n.kind == fzForeign || n.kind == fzNil) {
		n.kind = fzAll
	}
	switch n.kind {
	case fzIs:
		choice := []error{errFzS1, errFzS2, context.DeadlineExceeded, nil}
		for range r.next() % 4 {
			n.targets = append(n.targets, choice[r.next()%4])
		}
	case fzCustom:
		n.pred = r.next()%5 - 1
		*ids++
		n.id = *ids
	case fzNamed:
		n.label = fzLabels[r.next()%len(fzLabels)]
		n.kids = []*fzNode{fzDecode(r, depth+1, ids, false)}
	case fzNot:
		n.method = r.next()%2 == 1
		n.kids = []*fzNode{fzDecode(r, depth+1, ids, false)}
	case fzAnd, fzOr:
		n.method = r.next()%2 == 1
		count := r.next() % 4
		if n.method {
			count = 2
		}
		for range count {
			n.kids = append(n.kids, fzDecode(r, depth+1, ids, false))
		}
	case fzForeign:
		n.dec = sdk.Decision(r.next() % 4) // DecisionNone and out-of-range values count as ignored
		n.rule = fzLabels[1+r.next()%(len(fzLabels)-1)]
	case fzNil:
		n.typed = r.next()%2 == 1
	}
	return n
}

// fzForeignTracker is a Tracker that is not a *tracker.Rule.
type fzForeignTracker struct {
	dec  sdk.Decision
	rule string
}

func (f fzForeignTracker) Track(_ context.Context, err error) tracker.Verdict {
	if err == nil {
		return tracker.Verdict{}
	}
	return tracker.Verdict{Decision: f.dec, Rule: f.rule}
}

// build makes the tracker for n; calls records which Custom funcs ran.
func (n *fzNode) build(calls *[]int) tracker.Tracker {
	switch n.kind {
	case fzAll:
		return tracker.All()
	case fzTypeA:
		return tracker.TypeOf[*fzErrA]()
	case fzTypeB:
		return tracker.TypeOf[*fzErrB]()
	case fzTypeTemp:
		return tracker.TypeOf[fzTemporary]()
	case fzIs:
		return tracker.Is(n.targets...)
	case fzCustom:
		if n.pred < 0 {
			return tracker.Custom(nil)
		}
		id, pred := n.id, n.pred
		return tracker.Custom(func(ctx context.Context, err error) bool {
			*calls = append(*calls, id)
			switch pred {
			case 0:
				var a *fzErrA
				return errors.As(err, &a)
			case 1:
				return ctx.Value(fzCtxKey{}) != nil
			case 2:
				return true
			}
			return false
		})
	case fzNamed:
		return tracker.Named(n.label, n.kids[0].build(calls))
	case fzNot:
		kid := n.kids[0].build(calls)
		if r, ok := kid.(*tracker.Rule); ok && n.method {
			return r.Not()
		}
		return tracker.Not(kid)
	case fzAnd, fzOr:
		if n.method && len(n.kids) != 2 {
			panic("the decoder gives the And and Or methods two operands")
		}
		kids := make([]tracker.Tracker, len(n.kids))
		for i, k := range n.kids {
			kids[i] = k.build(calls)
		}
		if n.method {
			if r, ok := kids[0].(*tracker.Rule); ok {
				if n.kind == fzAnd {
					return r.And(kids[1])
				}
				return r.Or(kids[1])
			}
		}
		if n.kind == fzAnd {
			return tracker.And(kids...)
		}
		return tracker.Or(kids...)
	case fzForeign:
		return fzForeignTracker{dec: n.dec, rule: n.rule}
	}
	if n.typed {
		return (*tracker.Rule)(nil)
	}
	return nil
}

// valid is the reference validation: Is needs targets and no nil one,
// Custom a func, Named a label and an operand, Not an operand, And and Or
// at least one operand, and no operand may be nil.
func (n *fzNode) valid() bool {
	switch n.kind {
	case fzIs:
		return len(n.targets) > 0 && !slices.Contains(n.targets, nil)
	case fzCustom:
		return n.pred >= 0
	case fzNamed:
		return n.label != "" && n.kids[0].valid()
	case fzNot:
		return n.kids[0].valid()
	case fzAnd, fzOr:
		if len(n.kids) == 0 {
			return false
		}
		for _, k := range n.kids {
			if !k.valid() {
				return false
			}
		}
		return true
	case fzNil:
		return false
	}
	return true
}

// eval is the direct evaluation, written from the table in the package
// documentation: a leaf decides from the facts and names itself only when it
// matched; Named renames a verdict that names a rule or counts (the
// outermost name wins) and leaves an unnamed ignored one alone; Not
// ignores what its operand counts, under the operand's label, and counts
// what its operand ignores, naming no rule; And and Or evaluate left to right and
// stop once the result is known. And gives the verdict of the first operand
// that ignored the error, or, when every operand counted it, the label of
// the last operand whose verdict has one; Or gives the verdict of the first
// operand that counted the error, or no rule when none did. matched collects
// the labels a verdict may name: leaves that matched, Named rules and
// foreign trackers that were evaluated.
func (n *fzNode) eval(f fzFacts, ctxValue bool, calls *[]int, matched map[string]bool) (bool, string) {
	leaf := func(match bool, label string) (bool, string) {
		if !match {
			return false, ""
		}
		matched[label] = true
		return true, label
	}
	switch n.kind {
	case fzAll:
		return leaf(true, "all")
	case fzTypeA:
		return leaf(f.a, "type_of:*tracker_test.fzErrA")
	case fzTypeB:
		return leaf(f.b, "type_of:*tracker_test.fzErrB")
	case fzTypeTemp:
		return leaf(f.b || f.deadline, "type_of:tracker_test.fzTemporary")
	case fzIs:
		for _, t := range n.targets {
			if (t == errFzS1 && f.s1) || (t == errFzS2 && f.s2) || (t == context.DeadlineExceeded && f.deadline) {
				return leaf(true, "is")
			}
		}
		return leaf(false, "is")
	case fzCustom:
		*calls = append(*calls, n.id)
		switch n.pred {
		case 0:
			return leaf(f.a, "custom")
		case 1:
			return leaf(ctxValue, "custom")
		case 2:
			return leaf(true, "custom")
		}
		return leaf(false, "custom")
	case fzNamed:
		c, l := n.kids[0].eval(f, ctxValue, calls, matched)
		if !c && l == "" {
			return false, "" // nothing inside matched: no name
		}
		matched[n.label] = true
		return c, n.label
	case fzNot:
		// Not(Not(r)) is r itself when r is a *Rule (only a foreign
		// tracker gets a real double negation).
		if k := n.kids[0]; k.kind == fzNot && k.kids[0].kind != fzForeign {
			return k.kids[0].eval(f, ctxValue, calls, matched)
		}
		if c, l := n.kids[0].eval(f, ctxValue, calls, matched); c {
			return false, l
		}
		return true, ""
	case fzAnd:
		rule := ""
		for _, k := range n.kids {
			c, l := k.eval(f, ctxValue, calls, matched)
			if !c {
				return false, l
			}
			if l != "" {
				rule = l
			}
		}
		return true, rule
	case fzOr:
		for _, k := range n.kids {
			if c, l := k.eval(f, ctxValue, calls, matched); c {
				return true, l
			}
		}
		return false, ""
	case fzForeign:
		matched[n.rule] = true
		return n.dec == sdk.DecisionCounted, n.rule
	}
	panic("eval of an invalid node")
}

func FuzzTrackerComposition(f *testing.F) {
	f.Add([]byte{fzAll}, []byte{0}, false)
	f.Add([]byte{fzAnd, 0, 3, fzTypeA, fzNot, 0, fzTypeB, fzCustom, 3}, []byte{8, 0, 4}, true)
	f.Add([]byte{fzOr, 1, fzNamed, 1, fzIs, 2, 0, 2, fzCustom, 2}, []byte{6, 2}, false)
	f.Add([]byte{fzNamed, 2, fzNamed, 3, fzOr, 0, 2, fzForeign, 0, 0, fzNot, 1, fzTypeTemp}, []byte{7, 1}, true)
	f.Add([]byte{fzAnd, 0, 2, fzNil, 1, fzCustom, 0}, []byte{5}, false)
	f.Add([]byte{fzNot, 1, fzNot, 1, fzAnd, 1, fzCustom, 1, fzCustom, 4}, []byte{8, 0, 1}, true)
	f.Add([]byte{fzIs, 0}, []byte{2}, false)
	f.Add([]byte{fzOr, 1, 0, fzNamed, 1, fzTypeA, fzNamed, 2, fzIs, 1, 2}, []byte{5}, false)
	f.Add([]byte{fzAnd, 0, 2, fzAll, fzNot, 0, fzIs, 1, 0}, []byte{5}, false)
	f.Fuzz(func(t *testing.T, tree, errSpec []byte, ctxValue bool) {
		ids := 0
		root := fzDecode(&fzBytes{tree}, 0, &ids, true)
		var calls []int
		tr := root.build(&calls)
		rule, ok := tr.(*tracker.Rule)
		if !ok || rule == nil {
			t.Fatalf("the constructors returned %T", tr)
		}
		facts, err := fzMakeErr(&fzBytes{errSpec}, 0)
		ctx := context.Background()
		if ctxValue {
			ctx = context.WithValue(ctx, fzCtxKey{}, true)
		}
		_ = rule.String()

		if v := rule.Track(ctx, nil); v != (tracker.Verdict{}) || len(calls) != 0 {
			t.Fatalf("Track(nil) = %+v, calls %v", v, calls)
		}
		// Not(Not(r)) is r itself, except when r is a negation: then
		// Not(r) unwraps it and Not of that is a new, equivalent rule.
		notNot := tracker.Not(tracker.Not(rule))
		if root.kind != fzNot && (notNot != rule || rule.Not().Not() != rule) {
			t.Fatal("Not(Not(r)) is not r")
		}

		got := rule.Track(ctx, err)
		if !root.valid() {
			if rule.Err() == nil || tracker.Validate(rule) == nil {
				t.Fatalf("invalid rule %s validates", rule)
			}
			if got != (tracker.Verdict{Decision: sdk.DecisionCounted, Rule: "all"}) || len(calls) != 0 {
				t.Fatalf("invalid rule: Track = %+v with calls %v, want counted by all, nothing evaluated", got, calls)
			}
			return
		}
		if e := rule.Err(); e != nil {
			t.Fatalf("valid rule %s reports %v", rule, e)
		}
		var wantCalls []int
		matched := map[string]bool{}
		counted, label := root.eval(facts, ctxValue, &wantCalls, matched)
		want := tracker.Verdict{Decision: sdk.DecisionIgnored, Rule: label}
		if counted {
			want.Decision = sdk.DecisionCounted
		}
		if got != want {
			t.Fatalf("%s on %q: Track = %+v, direct evaluation %+v", rule, err, got, want)
		}
		// A verdict names only a rule that matched the error: a leaf that
		// matched, a Named rule around one, or a foreign tracker's own name.
		if got.Rule != "" && !matched[got.Rule] {
			t.Fatalf("%s on %q: Track names rule %q, which did not match", rule, err, got.Rule)
		}
		if !slices.Equal(calls, wantCalls) {
			t.Fatalf("%s on %q: Custom funcs ran %v, short-circuit evaluation runs %v", rule, err, calls, wantCalls)
		}
		if got.Counted() != counted {
			t.Fatalf("Counted() = %v", got.Counted())
		}
		if v := notNot.Track(ctx, err); v != got {
			t.Fatalf("Not(Not(%s)) = %+v, want %+v", rule, v, got)
		}
	})
}
