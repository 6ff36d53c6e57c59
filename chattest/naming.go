package chattest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"
)

// DocumentsNaming walks every document of the test's database (Database)
// in the Firestore emulator, subcollections of missing documents
// included, and returns the path of each whose path or any value holds s
// (a uid), with the fields that hold it: what storage still says about
// someone.
func DocumentsNaming(tb testing.TB, s string) map[string][]string {
	tb.Helper()
	env := MustEnv(tb)
	root := fmt.Sprintf("projects/%s/databases/%s/documents", env.Project, Database(tb))
	out := map[string][]string{}
	var walk func(parent string)
	walk = func(parent string) {
		for _, col := range restCollections(tb, env, parent) {
			for _, d := range restDocuments(tb, env, parent+"/"+col) {
				path := strings.TrimPrefix(d.Name, root+"/")
				var fields []string
				if strings.Contains(path, s) {
					fields = append(fields, "(path)")
				}
				for k, v := range d.Fields {
					if b, _ := json.Marshal(v); bytes.Contains(b, []byte(s)) {
						fields = append(fields, k)
					}
				}
				if len(fields) > 0 {
					sort.Strings(fields)
					out[path] = fields
				}
				walk(d.Name)
			}
		}
	}
	walk(root)
	return out
}

// restDoc is a document as the REST API lists it.
type restDoc struct {
	Name   string         `json:"name"`
	Fields map[string]any `json:"fields"`
}

func restCollections(tb testing.TB, env Env, parent string) []string {
	tb.Helper()
	var out struct {
		CollectionIDs []string `json:"collectionIds"`
	}
	restCall(tb, env, "POST", parent+":listCollectionIds", map[string]any{"pageSize": 1000}, &out)
	return out.CollectionIDs
}

func restDocuments(tb testing.TB, env Env, collection string) []restDoc {
	tb.Helper()
	var docs []restDoc
	token := ""
	for {
		var out struct {
			Documents     []restDoc `json:"documents"`
			NextPageToken string    `json:"nextPageToken"`
		}
		restCall(tb, env, "GET", collection+"?pageSize=500&showMissing=true&pageToken="+token, nil, &out)
		docs = append(docs, out.Documents...)
		if token = out.NextPageToken; token == "" {
			return docs
		}
	}
}

func restCall(tb testing.TB, env Env, method, path string, body any, out any) {
	tb.Helper()
	var rd *bytes.Reader
	if body != nil {
		rd = bytes.NewReader(MustJSON(body))
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, fmt.Sprintf("http://%s/v1/%s", env.FirestoreHost, path), rd)
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

// WaitWithin polls cond until it holds, failing tb after d.
func WaitWithin(tb testing.TB, what string, d time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
