package tracker

import (
	"fmt"
	"strings"
)

// String returns r as a readable expression built from the labels of its
// leaves and the operators "&", "|" and "!", for example
// "(type_of:*net.OpError | custom) & !is". A [Named] rule shows its label
// only. A Tracker that is not a *Rule shows its String method if it has one,
// and its type otherwise.
func (r *Rule) String() string {
	var b strings.Builder
	r.write(&b)
	return b.String()
}

// write writes the expression of r to b.
func (r *Rule) write(b *strings.Builder) {
	if r == nil {
		b.WriteString("<nil>")
		return
	}
	switch r.kind {
	case kindAll:
		b.WriteString(labelAll)
	case kindTypeOf, kindIs, kindCustom:
		b.WriteString(r.label)
	case kindNamed:
		if r.label == "" {
			b.WriteString(`""`)
		} else {
			b.WriteString(r.label)
		}
	case kindNot:
		b.WriteByte('!')
		r.kids[0].write(b, kindNot)
	case kindAnd, kindOr:
		op, name := " & ", "And()"
		if r.kind == kindOr {
			op, name = " | ", "Or()"
		}
		if len(r.kids) == 0 {
			b.WriteString(name)
			return
		}
		for i, c := range r.kids {
			if i > 0 {
				b.WriteString(op)
			}
			c.write(b, r.kind)
		}
	}
}

// write writes the expression of the operand c of a parent of kind parent,
// in parentheses when c is an And or an Or of another kind with more than
// one operand.
func (c child) write(b *strings.Builder, parent kind) {
	switch {
	case c.rule != nil:
		if k := c.rule.kind; (k == kindAnd || k == kindOr) && k != parent && len(c.rule.kids) > 1 {
			b.WriteByte('(')
			c.rule.write(b)
			b.WriteByte(')')
			return
		}
		c.rule.write(b)
	case c.t == nil:
		b.WriteString("<nil>")
	default:
		if s, ok := c.t.(fmt.Stringer); ok {
			b.WriteString(s.String())
		} else {
			fmt.Fprintf(b, "%T", c.t)
		}
	}
}
