package account_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chathub/chathub/internal/account"
)

// TestAuditActionsAreConstants checks that the code writing the audit log
// (internal/account and internal/admin) names its actions with the Action…
// constants, never a string literal, so that AuditActions lists every
// action the hub can write; and that every constant is listed.
func TestAuditActionsAreConstants(t *testing.T) {
	t.Parallel()
	// The calls that take an action and the position of the argument.
	actionArg := map[string]int{"record": 1, "recordAs": 2, "control": 1}
	fset := token.NewFileSet()
	for _, dir := range []string{".", "../admin"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, name, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CallExpr:
					sel, ok := n.Fun.(*ast.SelectorExpr)
					if !ok {
						return true
					}
					if i, ok := actionArg[sel.Sel.Name]; ok && i < len(n.Args) {
						if lit, ok := n.Args[i].(*ast.BasicLit); ok {
							t.Errorf("%s: %s(…, %s, …): use an account.Action… constant", fset.Position(n.Pos()), sel.Sel.Name, lit.Value)
						}
					}
				case *ast.KeyValueExpr:
					if k, ok := n.Key.(*ast.Ident); ok && k.Name == "Action" {
						if lit, ok := n.Value.(*ast.BasicLit); ok {
							t.Errorf("%s: Action: %s: use an account.Action… constant", fset.Position(n.Pos()), lit.Value)
						}
					}
				}
				return true
			})
		}
	}
	// Every Action… constant is in AuditActions.
	f, err := parser.ParseFile(fset, "audit_actions.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	listed := account.AuditActions()
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			for _, v := range s.(*ast.ValueSpec).Values {
				lit, ok := v.(*ast.BasicLit)
				if !ok {
					continue
				}
				a, _ := strconv.Unquote(lit.Value)
				if !slices.Contains(listed, a) {
					t.Errorf("constant %q is missing from AuditActions", a)
				}
			}
		}
	}
	if len(listed) != len(slices.Compact(slices.Sorted(slices.Values(listed)))) {
		t.Errorf("AuditActions lists an action twice: %v", listed)
	}
}
