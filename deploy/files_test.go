package deploy_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// instruction is one Dockerfile instruction as the parser reads it.
type instruction struct {
	cmd   string // lower case: from, run, copy, user, entrypoint, …
	args  []string
	flags []string
	json  bool // exec form (["a", "b"])
}

// MustDockerfile parses the repository's Dockerfile into stages.
func MustDockerfile(tb testing.TB) [][]instruction {
	tb.Helper()
	raw, err := os.ReadFile("../Dockerfile")
	if err != nil {
		tb.Fatal(err)
	}
	res, err := parser.Parse(bytes.NewReader(raw))
	if err != nil {
		tb.Fatalf("Dockerfile: %v", err)
	}
	var stages [][]instruction
	for _, n := range res.AST.Children {
		in := instruction{cmd: strings.ToLower(n.Value), flags: n.Flags, json: n.Attributes["json"]}
		for a := n.Next; a != nil; a = a.Next {
			in.args = append(in.args, a.Value)
		}
		if in.cmd == "from" {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			stages = append(stages, nil) // ARG before FROM
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], in)
	}
	return stages
}

// goBuildLine returns the build stage's `go build` command line.
func goBuildLine(tb testing.TB, stages [][]instruction) string {
	tb.Helper()
	for _, in := range stages[0] {
		if in.cmd == "run" && strings.Contains(strings.Join(in.args, " "), "go build") {
			return strings.Join(in.args, " ")
		}
	}
	tb.Fatal("the build stage has no go build")
	return ""
}

func TestDockerfile(t *testing.T) {
	stages := MustDockerfile(t)
	if len(stages) != 2 {
		t.Fatalf("%d stages, want 2 (build, runtime)", len(stages))
	}
	build, final := stages[0], stages[1]
	if !strings.HasPrefix(build[0].args[0], "golang:1.26") {
		t.Errorf("build stage FROM %v, want golang:1.26 (go.mod's Go)", build[0].args)
	}
	line := goBuildLine(t, stages)
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-X main.version=${VERSION}", "./cmd/server"} {
		if !strings.Contains(line, want) {
			t.Errorf("go build line lacks %q: %s", want, line)
		}
	}
	if img := final[0].args[0]; !regexp.MustCompile(`^gcr\.io/distroless/static[-a-z0-9]*:nonroot$`).MatchString(img) {
		t.Errorf("runtime image %q, want distroless static nonroot", img)
	}
	var user, entry *instruction
	for i, in := range final {
		switch in.cmd {
		case "run", "shell":
			t.Errorf("runtime stage has %s: it needs no shell", strings.ToUpper(in.cmd))
		case "user":
			user = &final[i]
		case "entrypoint", "cmd":
			entry = &final[i]
		case "copy":
			if !slices.Contains(in.flags, "--from=build") {
				t.Errorf("runtime stage copies %v from the context: only the binary belongs there", in.args)
			}
		}
	}
	if user == nil || strings.HasPrefix(user.args[0], "root") || user.args[0] == "0" {
		t.Errorf("runtime user %v, want non-root", user)
	}
	if entry == nil || !entry.json || entry.args[0] != "/server" {
		t.Errorf("entrypoint %+v, want exec form [\"/server\"]", entry)
	}
}

// cloudBuild is cloudbuild.yaml; unknown fields are refused.
type cloudBuild struct {
	Substitutions map[string]string `yaml:"substitutions"`
	Options       struct {
		DynamicSubstitutions bool   `yaml:"dynamicSubstitutions"`
		Logging              string `yaml:"logging"`
		MachineType          string `yaml:"machineType"`
	} `yaml:"options"`
	Timeout string `yaml:"timeout"`
	Steps   []struct {
		ID         string   `yaml:"id"`
		Name       string   `yaml:"name"`
		Entrypoint string   `yaml:"entrypoint"`
		Args       []string `yaml:"args"`
	} `yaml:"steps"`
	Images []string `yaml:"images"`
}

func mustStrictYAML(tb testing.TB, path string, v any) []byte {
	tb.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := yaml.UnmarshalWithOptions(raw, v, yaml.DisallowUnknownField()); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return raw
}

func TestCloudBuild(t *testing.T) {
	var cb cloudBuild
	mustStrictYAML(t, "../cloudbuild.yaml", &cb)
	for _, k := range []string{"_REGION", "_SERVICE", "_REPOSITORY", "_BUCKET", "_SERVICE_ACCOUNT", "_TAG"} {
		if cb.Substitutions[k] == "" {
			t.Errorf("substitution %s has no default", k)
		}
	}
	if cb.Substitutions["_TAG"] != "${SHORT_SHA}" || !cb.Options.DynamicSubstitutions {
		t.Errorf("images must be tagged with the commit: _TAG=%q dynamic=%v", cb.Substitutions["_TAG"], cb.Options.DynamicSubstitutions)
	}
	var ids []string
	step := map[string]string{}
	for _, s := range cb.Steps {
		ids = append(ids, s.ID)
		step[s.ID] = s.Name + " " + s.Entrypoint + " " + strings.Join(s.Args, " ")
	}
	if want := []string{"test", "build", "push", "firestore", "deploy"}; !slices.Equal(ids, want) {
		t.Fatalf("steps %v, want %v", ids, want)
	}
	image := "${_REGION}-docker.pkg.dev/$PROJECT_ID/${_REPOSITORY}/${_SERVICE}:${_TAG}"
	if !strings.Contains(step["build"], "-t "+image) || !strings.Contains(step["push"], "push "+image) || !slices.Contains(cb.Images, image) {
		t.Errorf("build/push/images do not all use %s", image)
	}
	if !strings.Contains(step["build"], "VERSION=${_TAG}") {
		t.Errorf("the build does not stamp the version")
	}
	script, err := os.ReadFile("cloudbuild-test.sh")
	if err != nil || !strings.Contains(step["test"], "deploy/cloudbuild-test.sh") || !strings.Contains(string(script), "exec make test") {
		t.Errorf("the test step must run make test (via deploy/cloudbuild-test.sh): %v", err)
	}
	if !strings.Contains(step["firestore"], "deploy --only firestore --config deploy/firebase.json") {
		t.Errorf("firestore step does not deploy indexes, TTL and rules: %s", step["firestore"])
	}
	if !strings.Contains(step["deploy"], "gcloud run services replace") || !strings.Contains(step["deploy"], "deploy/service.yaml") {
		t.Errorf("deploy step does not replace the service from deploy/service.yaml")
	}
	// Every placeholder of the service definition is filled in.
	raw, _ := os.ReadFile("service.yaml")
	for _, m := range regexp.MustCompile(`\$\{([A-Z_]+)\}`).FindAllStringSubmatch(string(raw), -1) {
		if !strings.Contains(step["deploy"], `\$${`+m[1]+`}`) {
			t.Errorf("placeholder ${%s} of service.yaml is not rendered by the deploy step", m[1])
		}
	}
	var fb struct {
		Firestore struct{ Rules, Indexes string } `json:"firestore"`
	}
	mustStrictYAML(t, "firebase.json", &fb)
	for _, f := range []string{fb.Firestore.Rules, fb.Firestore.Indexes} {
		if _, err := os.Stat(filepath.Join(".", f)); err != nil {
			t.Errorf("firebase.json names %q: %v", f, err)
		}
	}
}
