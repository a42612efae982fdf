// Package apidump writes the exported API of a Go package as sorted text
// lines, one per exported name (functions, methods, types, struct fields,
// interface methods, constants and variables), for the golden-file test of
// the module's public API. It reads source with go/parser only, so it
// needs no build of the package.
package apidump

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/printer"
	"go/token"
	"path/filepath"
	"sort"
	"strings"
)

// Dump returns the exported API of the package in dir, one line per
// exported identifier, sorted. Test files and files excluded by build
// constraints for the current platform are ignored.
func Dump(dir string) ([]string, error) {
	bp, err := build.Default.ImportDir(dir, 0)
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	var lines []string
	for _, name := range bp.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		lines = append(lines, fileAPI(fset, f)...)
	}
	sort.Strings(lines)
	return lines, nil
}

func fileAPI(fset *token.FileSet, f *ast.File) []string {
	var out []string
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if !d.Name.IsExported() {
				continue
			}
			if d.Recv == nil {
				out = append(out, "func "+d.Name.Name+typeParams(fset, d.Type.TypeParams)+signature(fset, d.Type))
				continue
			}
			recv := d.Recv.List[0].Type
			if !ast.IsExported(baseName(recv)) {
				continue
			}
			out = append(out, "method ("+expr(fset, recv)+") "+d.Name.Name+signature(fset, d.Type))
		case *ast.GenDecl:
			out = append(out, genDecl(fset, d)...)
		}
	}
	return out
}

func genDecl(fset *token.FileSet, d *ast.GenDecl) []string {
	var out []string
	var lastType ast.Expr // for iota continuations
	for _, s := range d.Specs {
		switch s := s.(type) {
		case *ast.TypeSpec:
			if !s.Name.IsExported() {
				continue
			}
			head := "type " + s.Name.Name + typeParams(fset, s.TypeParams)
			if s.Assign.IsValid() {
				head += " ="
			}
			switch t := s.Type.(type) {
			case *ast.StructType:
				out = append(out, head+" struct")
				for _, fl := range t.Fields.List {
					if len(fl.Names) == 0 {
						if ast.IsExported(baseName(fl.Type)) {
							out = append(out, head+" struct, embedded "+expr(fset, fl.Type))
						}
						continue
					}
					for _, n := range fl.Names {
						if n.IsExported() {
							out = append(out, head+" struct, "+n.Name+" "+expr(fset, fl.Type))
						}
					}
				}
			case *ast.InterfaceType:
				out = append(out, head+" interface")
				for _, m := range t.Methods.List {
					if len(m.Names) == 0 {
						out = append(out, head+" interface, embedded "+expr(fset, m.Type))
						continue
					}
					for _, n := range m.Names {
						if n.IsExported() {
							ft, _ := m.Type.(*ast.FuncType)
							out = append(out, head+" interface, "+n.Name+signature(fset, ft))
						}
					}
				}
			default:
				out = append(out, head+" "+expr(fset, s.Type))
			}
		case *ast.ValueSpec:
			kind := d.Tok.String()
			if s.Type != nil {
				lastType = s.Type
			} else if len(s.Values) > 0 {
				lastType = nil
			}
			for i, n := range s.Names {
				if !n.IsExported() {
					continue
				}
				line := kind + " " + n.Name
				switch {
				case s.Type != nil:
					line += " " + expr(fset, s.Type)
				case kind == "const" && lastType != nil:
					line += " " + expr(fset, lastType)
				case kind == "const" && i < len(s.Values):
					line += " = " + expr(fset, s.Values[i])
				}
				out = append(out, line)
			}
		}
	}
	return out
}

// signature prints a function type without parameter names.
func signature(fset *token.FileSet, ft *ast.FuncType) string {
	if ft == nil {
		return ""
	}
	s := "(" + fieldTypes(fset, ft.Params) + ")"
	if ft.Results != nil && len(ft.Results.List) > 0 {
		r := fieldTypes(fset, ft.Results)
		if len(ft.Results.List) == 1 && len(ft.Results.List[0].Names) <= 1 {
			s += " " + r
		} else {
			s += " (" + r + ")"
		}
	}
	return s
}

func fieldTypes(fset *token.FileSet, fl *ast.FieldList) string {
	if fl == nil {
		return ""
	}
	var parts []string
	for _, f := range fl.List {
		n := len(f.Names)
		if n == 0 {
			n = 1
		}
		for range n {
			parts = append(parts, expr(fset, f.Type))
		}
	}
	return strings.Join(parts, ", ")
}

func typeParams(fset *token.FileSet, fl *ast.FieldList) string {
	if fl == nil || len(fl.List) == 0 {
		return ""
	}
	var parts []string
	for _, f := range fl.List {
		var names []string
		for _, n := range f.Names {
			names = append(names, n.Name)
		}
		parts = append(parts, strings.Join(names, ", ")+" "+expr(fset, f.Type))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func baseName(e ast.Expr) string {
	for {
		switch t := e.(type) {
		case *ast.StarExpr:
			e = t.X
		case *ast.IndexExpr:
			e = t.X
		case *ast.IndexListExpr:
			e = t.X
		case *ast.SelectorExpr:
			return t.Sel.Name
		case *ast.Ident:
			return t.Name
		default:
			return ""
		}
	}
}

func expr(fset *token.FileSet, e ast.Expr) string {
	var b bytes.Buffer
	if err := printer.Fprint(&b, fset, e); err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	// Collapse multi-line literals (struct and interface types) to one line.
	return strings.Join(strings.Fields(b.String()), " ")
}
