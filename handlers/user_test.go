package handlers_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/chatapp/chat/chattest"
)

type userBody struct {
	ID         string  `json:"id"`
	Username   string  `json:"username"`
	ProfilePic string  `json:"profilePic"`
	LastSeen   *string `json:"lastSeen"`
	Online     bool    `json:"online"`
}

func me(t *testing.T, in *chattest.Instance, token string) userBody {
	t.Helper()
	r := in.Do(t, "GET", "/api/me", token, nil)
	chattest.MustContract(t).ValidateREST(t, "GET", "/api/me", r)
	if r.Status != http.StatusOK {
		t.Fatalf("me: %d %s", r.Status, r.Body)
	}
	var u userBody
	r.JSON(t, &u)
	return u
}

// unique returns a name no other test uses.
func unique(base string) string { return fmt.Sprintf("%s%d", base, chattest.Unique()) }

func TestMeCreation(t *testing.T) {
	t.Parallel()
	in := chattest.NewInstance(t, chattest.Options{})
	t.Run("FromNameClaim", func(t *testing.T) {
		name := unique("Ana Claim ")
		u := chattest.NewUser(t, name)
		got := me(t, in, u.Token)
		if got.Username != name || got.ID != u.UID || got.Online || got.LastSeen != nil {
			t.Fatalf("got %+v", got)
		}
		if again := me(t, in, u.Token); again != got {
			t.Fatalf("second call differs: %+v", again)
		}
	})
	t.Run("FromEmail", func(t *testing.T) {
		u := chattest.NewUser(t, "")
		got := me(t, in, u.Token)
		if want := strings.Split(u.Email, "@")[0]; got.Username != want {
			t.Fatalf("username %q, want %q", got.Username, want)
		}
	})
	t.Run("FallbackUser", func(t *testing.T) {
		u := chattest.NewUser(t, "")
		// A token without name or email claims.
		tok := chattest.CraftTokenClaims(t, u.UID, nil)
		got := me(t, in, tok)
		if got.Username != "user" && !strings.HasPrefix(got.Username, "user") {
			t.Fatalf("username %q", got.Username)
		}
	})
	t.Run("LowestFreeSuffix", func(t *testing.T) {
		base := unique("sam")
		var names []string
		for i := 0; i < 3; i++ {
			names = append(names, me(t, in, chattest.NewUser(t, base).Token).Username)
		}
		want := []string{base, base + "2", base + "3"}
		if fmt.Sprint(names) != fmt.Sprint(want) {
			t.Fatalf("got %v want %v", names, want)
		}
	})
	t.Run("CaseInsensitiveTaken", func(t *testing.T) {
		base := unique("kim")
		me(t, in, chattest.NewUser(t, base).Token)
		if got := me(t, in, chattest.NewUser(t, strings.ToUpper(base)).Token).Username; got != strings.ToUpper(base)+"2" {
			t.Fatalf("got %q", got)
		}
	})
	t.Run("RaceAcrossInstances", func(t *testing.T) {
		b := chattest.NewInstance(t, chattest.Options{})
		base := unique("race")
		const n = 20
		users := make([]chattest.User, n)
		for i := range users {
			users[i] = chattest.NewUser(t, base)
		}
		got := make([]string, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range users {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				target := in
				if i%2 == 1 {
					target = b
				}
				r := target.Do(t, "GET", "/api/me", users[i].Token, nil)
				var u userBody
				r.JSON(t, &u)
				got[i] = u.Username
			}()
		}
		close(start)
		wg.Wait()
		seen := map[string]bool{}
		for _, g := range got {
			seen[g] = true
		}
		for i := 1; i <= n; i++ {
			name := base
			if i > 1 {
				name = fmt.Sprint(base, i)
			}
			if !seen[name] {
				t.Fatalf("names %v: missing %q (not the lowest free suffixes)", got, name)
			}
		}
		// Counted in storage: one reservation per user.
		if n := chattest.CountDocs(t, "users", "usernameLower", ">=", strings.ToLower(base)); n < 20 {
			t.Fatalf("stored %d profiles", n)
		}
	})
}

func TestPatchMe(t *testing.T) {
	t.Parallel()
	in := chattest.NewInstance(t, chattest.Options{})
	c := chattest.MustContract(t)
	ana := chattest.NewUser(t, unique("ana"))
	bob := chattest.NewUser(t, unique("bob"))
	anaName := me(t, in, ana.Token).Username
	me(t, in, bob.Token)
	patch := func(t *testing.T, token string, body any) chattest.Response {
		r := in.Do(t, "PATCH", "/api/me", token, body)
		c.ValidateREST(t, "PATCH", "/api/me", r)
		return r
	}
	t.Run("Rename", func(t *testing.T) {
		name := unique("Bobby ")
		r := patch(t, bob.Token, map[string]any{"username": name, "profilePic": "https://x/p.png"})
		var u userBody
		r.JSON(t, &u)
		if r.Status != 200 || u.Username != name || u.ProfilePic != "https://x/p.png" {
			t.Fatalf("got %d %s", r.Status, r.Body)
		}
	})
	t.Run("ErrConflict", func(t *testing.T) {
		r := patch(t, bob.Token, map[string]any{"username": strings.ToUpper(anaName)})
		if r.Status != 409 || r.ErrorCode() != "conflict" {
			t.Fatalf("got %d %s", r.Status, r.Body)
		}
	})
	t.Run("OwnNameOtherCase", func(t *testing.T) {
		r := patch(t, ana.Token, map[string]any{"username": strings.ToUpper(anaName)})
		if r.Status != 200 {
			t.Fatalf("got %d %s", r.Status, r.Body)
		}
	})
	t.Run("FreedNameReusable", func(t *testing.T) {
		old := unique("free")
		if r := patch(t, ana.Token, map[string]any{"username": old}); r.Status != 200 {
			t.Fatalf("got %d", r.Status)
		}
		if r := patch(t, ana.Token, map[string]any{"username": unique("other")}); r.Status != 200 {
			t.Fatalf("got %d", r.Status)
		}
		if r := patch(t, bob.Token, map[string]any{"username": old}); r.Status != 200 {
			t.Fatalf("freed name not reusable: %d %s", r.Status, r.Body)
		}
	})
	for name, body := range map[string]string{
		"ErrTooLong":      `{"username":"` + strings.Repeat("é", 65) + `"}`,
		"ErrEmpty":        `{"username":"   "}`,
		"ErrWrongType":    `{"username":42}`,
		"ErrMalformed":    `{"username":`,
		"ErrNotObject":    `[1,2]`,
		"ErrControlChars": `{"username":"a\u0000b"}`,
	} {
		t.Run(name, func(t *testing.T) {
			r := patch(t, bob.Token, body)
			if r.Status != 400 || r.ErrorCode() != "invalid_argument" {
				t.Fatalf("got %d %s", r.Status, r.Body)
			}
		})
	}
	t.Run("ErrTooLarge", func(t *testing.T) {
		r := patch(t, bob.Token, `{"profilePic":"`+strings.Repeat("x", 2<<20)+`"}`)
		if r.Status != 413 || r.ErrorCode() != "too_large" {
			t.Fatalf("got %d %.200s", r.Status, r.Body)
		}
	})
	t.Run("MaxLength", func(t *testing.T) {
		name := strings.Repeat("\u00fc", 58) + fmt.Sprintf("%06d", chattest.Unique()) // 64 code points
		if r := patch(t, bob.Token, map[string]any{"username": name}); r.Status != 200 {
			t.Fatalf("got %d %s", r.Status, r.Body)
		}
	})
}

func TestFindUsers(t *testing.T) {
	t.Parallel()
	in := chattest.NewInstance(t, chattest.Options{})
	c := chattest.MustContract(t)
	prefix := unique("Zed")
	caller := chattest.NewUser(t, "")
	for i := 0; i < 3; i++ {
		me(t, in, chattest.NewUser(t, fmt.Sprintf("%s-%d", prefix, i)).Token)
	}
	find := func(t *testing.T, query string) chattest.Response {
		r := in.Do(t, "GET", "/api/users?"+query, caller.Token, nil)
		c.ValidateREST(t, "GET", "/api/users", r)
		return r
	}
	t.Run("PrefixCaseInsensitive", func(t *testing.T) {
		r := find(t, "q="+strings.ToLower(prefix))
		var body struct{ Users []userBody }
		r.JSON(t, &body)
		if len(body.Users) != 3 {
			t.Fatalf("got %s", r.Body)
		}
	})
	t.Run("Limit", func(t *testing.T) {
		r := find(t, "q="+prefix+"&limit=2")
		var body struct{ Users []userBody }
		r.JSON(t, &body)
		if len(body.Users) != 2 {
			t.Fatalf("got %s", r.Body)
		}
	})
	for _, q := range []string{"limit=0", "limit=51", "limit=abc", "limit=-1"} {
		t.Run("ErrBadLimit/"+q, func(t *testing.T) {
			if r := find(t, q); r.Status != 400 || r.ErrorCode() != "invalid_argument" {
				t.Fatalf("got %d %s", r.Status, r.Body)
			}
		})
	}
}
