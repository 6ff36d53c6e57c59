package chattest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
)

// DocumentsNaming reads every document of the test's database (Database)
// in the Firestore emulator — one query over all collections at every
// depth — and returns the path of each whose path or any value holds s (a
// uid), with the fields that hold it: what storage still says about
// someone.
func DocumentsNaming(tb testing.TB, s string) map[string][]string {
	tb.Helper()
	env := MustEnv(tb)
	root := fmt.Sprintf("projects/%s/databases/%s/documents", env.Project, Database(tb))
	var rows []struct {
		Document *struct {
			Name   string         `json:"name"`
			Fields map[string]any `json:"fields"`
		} `json:"document"`
	}
	q := map[string]any{"structuredQuery": map[string]any{"from": []any{map[string]any{"allDescendants": true}}}}
	restCall(tb, env, "POST", root+":runQuery", q, &rows)
	out := map[string][]string{}
	for _, r := range rows {
		if r.Document == nil {
			continue
		}
		path := strings.TrimPrefix(r.Document.Name, root+"/")
		var fields []string
		if strings.Contains(path, s) {
			fields = append(fields, "(path)")
		}
		for k, v := range r.Document.Fields {
			if b, _ := json.Marshal(v); bytes.Contains(b, []byte(s)) {
				fields = append(fields, k)
			}
		}
		if len(fields) > 0 {
			sort.Strings(fields)
			out[path] = fields
		}
	}
	return out
}

func restCall(tb testing.TB, env Env, method, path string, body any, out any) {
	tb.Helper()
	req, _ := http.NewRequest(method, fmt.Sprintf("http://%s/v1/%s", env.FirestoreHost, path), bytes.NewReader(MustJSON(body)))
	req.Header.Set("Authorization", "Bearer owner")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("emulator %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e bytes.Buffer
		_, _ = e.ReadFrom(resp.Body)
		tb.Fatalf("emulator %s %s: %d %s", method, path, resp.StatusCode, e.String())
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		tb.Fatalf("emulator %s %s: %v", method, path, err)
	}
}
