package deploy_test

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chatapp/chat/firestore"
)

// indexFile is deploy/firestore.indexes.json.
type indexFile struct {
	Indexes []struct {
		CollectionGroup string       `json:"collectionGroup"`
		QueryScope      string       `json:"queryScope"`
		Fields          []indexField `json:"fields"`
	} `json:"indexes"`
	FieldOverrides []struct {
		CollectionGroup string `json:"collectionGroup"`
		FieldPath       string `json:"fieldPath"`
		TTL             bool   `json:"ttl"`
		Indexes         []struct {
			Order       string `json:"order"`
			ArrayConfig string `json:"arrayConfig"`
			QueryScope  string `json:"queryScope"`
		} `json:"indexes"`
	} `json:"fieldOverrides"`
}

type indexField struct {
	FieldPath   string `json:"fieldPath"`
	Order       string `json:"order,omitempty"`
	ArrayConfig string `json:"arrayConfig,omitempty"`
}

func mustIndexes(tb testing.TB) indexFile {
	tb.Helper()
	raw, err := os.ReadFile("firestore.indexes.json")
	if err != nil {
		tb.Fatal(err)
	}
	var f indexFile
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		tb.Fatalf("firestore.indexes.json: %v", err)
	}
	return f
}

// required derives what a query shape needs from Firestore's rules: a
// query on one field uses that field's single-field index (automatic for a
// collection, to be declared for a collection group, and not exempted); a
// query on several fields needs a composite index of its equality and
// array fields, then its range and sort fields in their direction.
func required(q firestore.QueryShape) (composite []indexField, single *indexField) {
	var eq, rest []indexField
	seen := map[string]bool{}
	for _, f := range q.Filters {
		if seen[f.Field] {
			continue
		}
		switch f.Op {
		case "==", "in":
			eq = append(eq, indexField{FieldPath: f.Field, Order: "ASCENDING"})
		case "array-contains", "array-contains-any":
			eq = append(eq, indexField{FieldPath: f.Field, ArrayConfig: "CONTAINS"})
		default:
			continue // a range field goes with the orders
		}
		seen[f.Field] = true
	}
	for _, o := range q.Orders {
		if o.Field == "__name__" || seen[o.Field] {
			continue
		}
		dir := "ASCENDING"
		if o.Desc {
			dir = "DESCENDING"
		}
		rest = append(rest, indexField{FieldPath: o.Field, Order: dir})
		seen[o.Field] = true
	}
	for _, f := range q.Filters {
		if !seen[f.Field] {
			rest = append(rest, indexField{FieldPath: f.Field, Order: "ASCENDING"})
			seen[f.Field] = true
		}
	}
	all := append(eq, rest...)
	switch len(all) {
	case 0:
		return nil, nil
	case 1:
		return nil, &all[0]
	}
	return all, nil
}

// missing says what f lacks for q, "" when nothing.
func (f indexFile) missing(q firestore.QueryShape) string {
	scope := "COLLECTION"
	if q.Group {
		scope = "COLLECTION_GROUP"
	}
	composite, single := required(q)
	if composite != nil {
		for _, ix := range f.Indexes {
			if ix.CollectionGroup == q.Collection && ix.QueryScope == scope && slices.Equal(ix.Fields, composite) {
				return ""
			}
		}
		return fmt.Sprintf("composite index %s %s %+v", scope, q.Collection, composite)
	}
	if single == nil {
		return ""
	}
	for _, o := range f.FieldOverrides {
		if o.CollectionGroup != q.Collection || o.FieldPath != single.FieldPath {
			continue
		}
		// An override replaces the automatic indexes: it must hold the one
		// the query uses.
		for _, ix := range o.Indexes {
			if ix.QueryScope == scope && ix.Order == single.Order && ix.ArrayConfig == single.ArrayConfig {
				return ""
			}
		}
		return fmt.Sprintf("single-field index %s %s.%s (the override drops it)", scope, q.Collection, single.FieldPath)
	}
	if q.Group {
		return fmt.Sprintf("collection-group single-field index on %s.%s", q.Collection, single.FieldPath)
	}
	return "" // automatic
}

func TestIndexesCoverEveryQuery(t *testing.T) {
	f := mustIndexes(t)
	for _, q := range firestore.Queries() {
		t.Run(q.Name, func(t *testing.T) {
			if m := f.missing(q); m != "" {
				t.Fatalf("deploy/firestore.indexes.json lacks the %s", m)
			}
		})
	}
	// The check is not vacuous: without any one index or override it fails.
	t.Run("ErrIndexRemoved", func(t *testing.T) {
		for i := range f.Indexes {
			cut := f
			cut.Indexes = slices.Delete(slices.Clone(f.Indexes), i, i+1)
			failed := false
			for _, q := range firestore.Queries() {
				failed = failed || cut.missing(q) != ""
			}
			if !failed {
				t.Errorf("index %d is needed by no query: remove it", i)
			}
		}
	})
}

func TestTTLPolicies(t *testing.T) {
	f := mustIndexes(t)
	ttl := map[string]bool{}
	for _, o := range f.FieldOverrides {
		if o.TTL {
			ttl[o.CollectionGroup+"."+o.FieldPath] = true
			if len(o.Indexes) != 0 {
				t.Errorf("TTL field %s.%s is indexed: a timestamp field written in order makes a hotspot", o.CollectionGroup, o.FieldPath)
			}
		}
	}
	// Typing entries and every instance heartbeat expire.
	for _, want := range []string{"typing.until", "messages.expireAt", "members.expireAt", "clientIds.expireAt"} {
		if !ttl[want] {
			t.Errorf("no TTL policy on %s", want)
		}
	}
}

// TestQueriesOnlyFromTheRegistry parses every non-test Go file and fails
// on a query built outside firestore/queries.go, where every query has a
// shape the index test checks.
func TestQueriesOnlyFromTheRegistry(t *testing.T) {
	builders := map[string]bool{"Where": true, "WherePath": true, "WhereEntity": true, "OrderBy": true, "OrderByPath": true,
		"CollectionGroup": true, "FindNearest": true}
	fset := token.NewFileSet()
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != ".." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		file, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok && builders[sel.Sel.Name] &&
				filepath.ToSlash(path) != "../firestore/queries.go" {
				t.Errorf("%s: query built outside firestore/queries.go (%s)", fset.Position(call.Pos()), sel.Sel.Name)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
