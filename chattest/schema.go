package chattest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Contract validates payloads against docs/openapi.yaml and
// docs/asyncapi.yaml with a JSON Schema 2020-12 validator
// (santhosh-tekuri/jsonschema), so the documents cannot drift from the code.
type Contract struct {
	mu      sync.Mutex
	docs    map[string]any
	c       *jsonschema.Compiler
	schemas map[string]*jsonschema.Schema
}

var contract struct {
	once sync.Once
	c    *Contract
	err  error
}

// MustContract loads the contract documents once per test process.
func MustContract(tb testing.TB) *Contract {
	tb.Helper()
	contract.once.Do(func() { contract.c, contract.err = loadContract() })
	if contract.err != nil {
		tb.Fatalf("load contract: %v", contract.err)
	}
	return contract.c
}

// DocsDir is the repository's docs/ folder.
func DocsDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "docs")
}

func loadContract() (*Contract, error) {
	c := &Contract{docs: map[string]any{}, c: jsonschema.NewCompiler(), schemas: map[string]*jsonschema.Schema{}}
	c.c.AssertFormat()
	for _, name := range []string{"openapi", "asyncapi"} {
		raw, err := os.ReadFile(filepath.Join(DocsDir(), name+".yaml"))
		if err != nil {
			return nil, err
		}
		j, err := yaml.YAMLToJSON(raw)
		if err != nil {
			return nil, fmt.Errorf("%s.yaml: %w", name, err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
		if err != nil {
			return nil, err
		}
		c.docs[name] = doc
		if err := c.c.AddResource("file:///"+name+".json", doc); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Doc returns a parsed document ("openapi" or "asyncapi").
func (c *Contract) Doc(name string) map[string]any { return c.docs[name].(map[string]any) }

func (c *Contract) schema(doc, pointer string) (*jsonschema.Schema, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := doc + "#" + pointer
	if s, ok := c.schemas[key]; ok {
		return s, nil
	}
	s, err := c.c.Compile("file:///" + doc + ".json#" + pointer)
	if err != nil {
		return nil, err
	}
	c.schemas[key] = s
	return s, nil
}

func escape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// Validate checks raw JSON against the schema at pointer in doc.
func (c *Contract) Validate(doc, pointer string, raw []byte) error {
	s, err := c.schema(doc, pointer)
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return s.Validate(v)
}

// ValidateREST checks a response against the OpenAPI operation
// method+template (e.g. "GET", "/api/chats/{id}"): its status must be
// declared and its body must match that response's schema.
func (c *Contract) ValidateREST(tb testing.TB, method, template string, r Response) {
	tb.Helper()
	paths, _ := c.Doc("openapi")["paths"].(map[string]any)
	op, _ := paths[template].(map[string]any)
	if op == nil {
		tb.Fatalf("contract: no path %s", template)
	}
	m, _ := op[strings.ToLower(method)].(map[string]any)
	if m == nil {
		tb.Fatalf("contract: no operation %s %s", method, template)
	}
	responses, _ := m["responses"].(map[string]any)
	status := strconv.Itoa(r.Status)
	resp, _ := responses[status].(map[string]any)
	if resp == nil {
		tb.Fatalf("contract: %s %s does not declare status %s (body %s)", method, template, status, r.Body)
	}
	pointer := "/paths/" + escape(template) + "/" + strings.ToLower(method) + "/responses/" + status
	if ref, ok := resp["$ref"].(string); ok {
		pointer = strings.TrimPrefix(ref, "#")
		resp = c.Doc("openapi")["components"].(map[string]any)["responses"].(map[string]any)[strings.TrimPrefix(ref, "#/components/responses/")].(map[string]any)
	}
	content, _ := resp["content"].(map[string]any)
	if _, ok := content["application/json"]; !ok {
		if len(bytes.TrimSpace(r.Body)) != 0 && content == nil {
			tb.Fatalf("contract: %s %s %s has no body, got %s", method, template, status, r.Body)
		}
		return
	}
	if err := c.Validate("openapi", pointer+"/content/application~1json/schema", r.Body); err != nil {
		tb.Fatalf("contract: %s %s %s body does not match: %v\nbody: %s", method, template, status, err, r.Body)
	}
}

// eventMessages maps Socket.IO events to the AsyncAPI message carrying
// their payload.
var eventMessages = map[string]string{
	"newMessage": "newMessage", "messageUpdated": "newMessage", "chatSummary": "chatSummary", "chatUpdated": "chat", "newChat": "chat",
	"chatDeleted": "chatDeleted", "chatInfo": "chatInfo", "typing": "typing", "stopTyping": "typing", "presence": "presence",
	"messagesRead": "messagesRead", "chatMuted": "chatMuted",
	"ack": "ack", "connect_error": "connectError",
}

// ValidateEvent checks a server→client payload (or an ack, event "ack")
// against docs/asyncapi.yaml.
func (c *Contract) ValidateEvent(event string, raw []byte) error {
	msg, ok := eventMessages[event]
	if !ok {
		return fmt.Errorf("contract: unknown event %q", event)
	}
	if err := c.Validate("asyncapi", "/components/messages/"+msg+"/payload", raw); err != nil {
		return fmt.Errorf("contract: %s payload does not match: %v\npayload: %s", event, err, raw)
	}
	return nil
}

// MustJSON marshals v.
func MustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
