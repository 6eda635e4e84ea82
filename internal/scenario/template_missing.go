package scenario

import (
	"text/template"
	"text/template/parse"
)

// missingFunc ends every printing action of a text (EmptyForMissing).
const missingFunc = "_chathub_value"

// emptyIfMissing turns a missing value into "".
func emptyIfMissing(v any) any {
	if v == nil {
		return ""
	}
	return v
}

// EmptyForMissing makes every action of t that prints a value print a
// missing one (an absent map key, an unknown age, .answer before an
// answer) as "" instead of text/template's "<no value>": it appends a
// call of a function that turns nil into "" to each printing pipeline.
// missingkey=zero alone does not do it, as the zero value of the cards'
// map[string]any is a nil interface, which prints as "<no value>". Call it
// once, after parsing and before the first execution.
func EmptyForMissing(t *template.Template) {
	t.Funcs(template.FuncMap{missingFunc: emptyIfMissing})
	for _, tt := range t.Templates() {
		if tt.Tree != nil {
			appendMissing(tt.Tree, tt.Tree.Root)
		}
	}
}

func appendMissing(tree *parse.Tree, n parse.Node) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			appendMissing(tree, c)
		}
	case *parse.ActionNode:
		if p := n.Pipe; p != nil && len(p.Decl) == 0 && len(p.Cmds) > 0 {
			fn := parse.NewIdentifier(missingFunc).SetTree(tree).SetPos(p.Position())
			p.Cmds = append(p.Cmds, &parse.CommandNode{NodeType: parse.NodeCommand, Pos: p.Position(), Args: []parse.Node{fn}})
		}
	case *parse.IfNode:
		appendMissing(tree, n.List)
		appendMissing(tree, n.ElseList)
	case *parse.RangeNode:
		appendMissing(tree, n.List)
		appendMissing(tree, n.ElseList)
	case *parse.WithNode:
		appendMissing(tree, n.List)
		appendMissing(tree, n.ElseList)
	}
}
