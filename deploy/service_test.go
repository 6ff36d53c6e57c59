package deploy_test

import (
	"strconv"
	"strings"
	"testing"
)

// service is deploy/service.yaml, the Knative service Cloud Run replaces;
// unknown fields are refused, so a misspelt setting fails here.
type service struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name        string            `yaml:"name"`
		Annotations map[string]string `yaml:"annotations"`
	} `yaml:"metadata"`
	Spec struct {
		Template struct {
			Metadata struct {
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"metadata"`
			Spec struct {
				ServiceAccountName   string      `yaml:"serviceAccountName"`
				TimeoutSeconds       int         `yaml:"timeoutSeconds"`
				ContainerConcurrency int         `yaml:"containerConcurrency"`
				Containers           []container `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type container struct {
	Image string `yaml:"image"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	Env []struct {
		Name  string `yaml:"name"`
		Value string `yaml:"value"`
	} `yaml:"env"`
	Resources struct {
		Limits map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	StartupProbe  probe `yaml:"startupProbe"`
	LivenessProbe probe `yaml:"livenessProbe"`
}

type probe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port int    `yaml:"port"`
	} `yaml:"httpGet"`
	PeriodSeconds    int `yaml:"periodSeconds"`
	TimeoutSeconds   int `yaml:"timeoutSeconds"`
	FailureThreshold int `yaml:"failureThreshold"`
}

// MustService reads the service definition.
func MustService(tb testing.TB) service {
	tb.Helper()
	var s service
	mustStrictYAML(tb, "service.yaml", &s)
	return s
}

// env returns the container's environment, placeholders filled by fill.
func (s service) env(fill map[string]string) []string {
	var out []string
	for _, e := range s.Spec.Template.Spec.Containers[0].Env {
		v := e.Value
		for k, x := range fill {
			v = strings.ReplaceAll(v, "${"+k+"}", x)
		}
		out = append(out, e.Name+"="+v)
	}
	return out
}

func TestServiceDefinition(t *testing.T) {
	s := MustService(t)
	if s.APIVersion != "serving.knative.dev/v1" || s.Kind != "Service" {
		t.Fatalf("not a Cloud Run service: %s %s", s.APIVersion, s.Kind)
	}
	tpl := s.Spec.Template
	ann := tpl.Metadata.Annotations
	check := func(name string, ok bool, got any) {
		t.Helper()
		if !ok {
			t.Errorf("%s: got %v", name, got)
		}
	}
	check("session affinity", ann["run.googleapis.com/sessionAffinity"] == "true", ann["run.googleapis.com/sessionAffinity"])
	check("CPU always allocated (instance-based billing)", ann["run.googleapis.com/cpu-throttling"] == "false", ann["run.googleapis.com/cpu-throttling"])
	minScale, _ := strconv.Atoi(ann["autoscaling.knative.dev/minScale"])
	check("min instances ≥ 1", minScale >= 1, ann["autoscaling.knative.dev/minScale"])
	check("request timeout 3600 s", tpl.Spec.TimeoutSeconds == 3600, tpl.Spec.TimeoutSeconds)
	check("concurrency 1–1000", tpl.Spec.ContainerConcurrency >= 1 && tpl.Spec.ContainerConcurrency <= 1000, tpl.Spec.ContainerConcurrency)
	check("a dedicated service account", strings.Contains(tpl.Spec.ServiceAccountName, "${SERVICE_ACCOUNT}"), tpl.Spec.ServiceAccountName)
	if len(tpl.Spec.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(tpl.Spec.Containers))
	}
	c := tpl.Spec.Containers[0]
	check("HTTP/1 port (h2c breaks websockets)", len(c.Ports) == 1 && c.Ports[0].Name == "http1", c.Ports)
	check("startup probe on /readyz", c.StartupProbe.HTTPGet.Path == "/readyz", c.StartupProbe.HTTPGet.Path)
	check("liveness probe on /healthz", c.LivenessProbe.HTTPGet.Path == "/healthz", c.LivenessProbe.HTTPGet.Path)
	env := strings.Join(s.env(nil), "\n")
	for _, name := range []string{"GOOGLE_CLOUD_PROJECT=", "STORAGE_BUCKET="} {
		check("env "+name, strings.Contains(env, name), env)
	}
	check("no emulator host in production", !strings.Contains(env, "EMULATOR_HOST"), env)
	check("no K_SERVICE (Cloud Run sets it)", !strings.Contains(env, "K_SERVICE"), env)
}
