package deploy_test

import (
	"context"
	"debug/elf"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatapp/chat/chattest"
)

// TestBuiltBinary runs the Dockerfile's own go build line, then starts
// that binary with only what the service definition gives it (plus the
// emulator hosts) and waits for /readyz; and checks that the same binary
// refuses to start with an emulator host on Cloud Run.
func TestBuiltBinary(t *testing.T) {
	env := chattest.MustEnv(t)
	line := goBuildLine(t, MustDockerfile(t))
	bin := filepath.Join(t.TempDir(), "server")
	build := exec.Command("sh", "-c", strings.ReplaceAll(line, "/out/server", bin))
	build.Dir = ".."
	build.Env = append(os.Environ(), "VERSION=deploytest")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", line, err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary is dynamically linked: distroless static has no libc")
		}
	}
	f.Close()

	t.Run("ServesWithTheServiceSettings", func(t *testing.T) {
		port := freePort(t)
		vars := MustService(t).env(map[string]string{"PROJECT_ID": env.Project, "BUCKET": env.Bucket, "CORS_ORIGINS": "", "WEB_APP_URL": ""})
		vars = append(vars, "PORT="+port, "FIRESTORE_EMULATOR_HOST="+env.FirestoreHost, "FIREBASE_AUTH_EMULATOR_HOST="+env.AuthHost,
			"STORAGE_EMULATOR_HOST="+env.StorageHost, "FCM_ENDPOINT="+chattest.NewFakeFCM(t).URL, "PATH="+os.Getenv("PATH"))
		logs := chattest.StartProcess(t, bin, vars)
		deadline := time.Now().Add(30 * time.Second)
		for {
			resp, err := http.Get("http://127.0.0.1:" + port + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("/readyz not 200 within 30 s: %v", err)
			}
			time.Sleep(100 * time.Millisecond) // polling for readiness
		}
		if v := logs.Until(t, "starting")["version"]; v != "deploytest" {
			t.Errorf("version logged %v, want the stamped deploytest", v)
		}
	})
	t.Run("ErrEmulatorOnCloudRun", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin)
		cmd.Env = []string{"GOOGLE_CLOUD_PROJECT=p", "STORAGE_BUCKET=b", "K_SERVICE=chatapp", "FIRESTORE_EMULATOR_HOST=" + env.FirestoreHost, "PORT=" + freePort(t)}
		out, err := cmd.Output()
		if err == nil || !strings.Contains(string(out), "FIRESTORE_EMULATOR_HOST is set while running on Cloud Run") {
			t.Fatalf("started with an emulator host on Cloud Run: err %v, output %s", err, out)
		}
	})
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}
