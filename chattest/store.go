package chattest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
)

// Query counts documents of the test's database (Database) straight in
// the Firestore emulator through its REST API as the admin ("Bearer
// owner"), not through the service: races are judged by what was stored.
func Query(tb testing.TB, parent, collection string, allDescendants bool, filters ...Filter) []map[string]any {
	tb.Helper()
	env := MustEnv(tb)
	q := map[string]any{"from": []any{map[string]any{"collectionId": collection, "allDescendants": allDescendants}}}
	var fs []any
	for _, f := range filters {
		fs = append(fs, map[string]any{"fieldFilter": map[string]any{
			"field": map[string]any{"fieldPath": f.Field}, "op": f.Op, "value": f.value(),
		}})
	}
	switch len(fs) {
	case 0:
	case 1:
		q["where"] = fs[0]
	default:
		q["where"] = map[string]any{"compositeFilter": map[string]any{"op": "AND", "filters": fs}}
	}
	url := fmt.Sprintf("http://%s/v1/projects/%s/databases/%s/documents%s:runQuery", env.FirestoreHost, env.Project, Database(tb), parent)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(MustJSON(map[string]any{"structuredQuery": q})))
	req.Header.Set("Authorization", "Bearer owner")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("emulator query: %v", err)
	}
	defer resp.Body.Close()
	var rows []struct {
		Document *struct {
			Name   string         `json:"name"`
			Fields map[string]any `json:"fields"`
		} `json:"document"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&rows); err != nil || resp.StatusCode != 200 {
		tb.Fatalf("emulator query %s: %d %v", url, resp.StatusCode, err)
	}
	var out []map[string]any
	for _, r := range rows {
		if r.Document != nil {
			doc := map[string]any{"__name__": r.Document.Name}
			for k, v := range r.Document.Fields {
				doc[k] = v
			}
			out = append(out, doc)
		}
	}
	return out
}

// Filter is one field filter of Query: Op is the REST API's
// (EQUAL, GREATER_THAN_OR_EQUAL, ARRAY_CONTAINS…).
type Filter struct {
	Field string
	Op    string
	Value any
}

func (f Filter) value() map[string]any {
	switch v := f.Value.(type) {
	case string:
		return map[string]any{"stringValue": v}
	case int:
		return map[string]any{"integerValue": fmt.Sprint(v)}
	case bool:
		return map[string]any{"booleanValue": v}
	}
	panic(fmt.Sprintf("filter value %T", f.Value))
}

// CountDocs counts the documents of a top-level collection matching one
// filter (op as in Go: "==", ">=").
func CountDocs(tb testing.TB, collection, field, op string, value any) int {
	tb.Helper()
	ops := map[string]string{"==": "EQUAL", ">=": "GREATER_THAN_OR_EQUAL", "array-contains": "ARRAY_CONTAINS"}
	return len(Query(tb, "", collection, false, Filter{field, ops[op], value}))
}
