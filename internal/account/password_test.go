package account

import (
	"strings"
	"testing"
)

func TestCheckPasswordRejectsMalformed(t *testing.T) {
	t.Parallel()
	good, err := hashPassword("correct horse battery", Argon2Params{Memory: 64, Time: 1, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$")
	for _, tc := range []struct {
		name, hash string
	}{
		{"empty", ""},
		{"bcrypt", "$2a$10$abcdefghijklmnopqrstuv"},
		{"argon2i", strings.Replace(good, "argon2id", "argon2i", 1)},
		{"old version", strings.Replace(good, "v=19", "v=16", 1)},
		{"huge memory", strings.Join(append(parts[:3:3], "m=4294967295,t=1,p=1", parts[4], parts[5]), "$")},
		{"huge time", strings.Join(append(parts[:3:3], "m=64,t=100000,p=1", parts[4], parts[5]), "$")},
		{"zero threads", strings.Join(append(parts[:3:3], "m=64,t=1,p=0", parts[4], parts[5]), "$")},
		{"bad salt", strings.Join(append(parts[:4:4], "!!!", parts[5]), "$")},
		{"short key", strings.Join(append(parts[:5:5], "AAAA"), "$")},
	} {
		if ok, err := checkPassword("correct horse battery", tc.hash); ok || err == nil {
			t.Errorf("%s: checkPassword(%q) = %v, %v; want errBadHash", tc.name, tc.hash, ok, err)
		}
	}
	if ok, err := checkPassword("correct horse battery", good); !ok || err != nil {
		t.Errorf("the good hash: %v, %v", ok, err)
	}
}

// FuzzCheckPassword: no stored string makes the check panic or accept a
// password it was not made from.
func FuzzCheckPassword(f *testing.F) {
	good, _ := hashPassword("correct horse battery", Argon2Params{Memory: 64, Time: 1, Threads: 1})
	f.Add(good)
	f.Add("$argon2id$v=19$m=64,t=1,p=1$$")
	f.Add("$argon2id$v=19$m=99999999999,t=1,p=1$AAAA$AAAA")
	f.Fuzz(func(t *testing.T, hash string) {
		ok, err := checkPassword("another password", hash)
		if ok && err == nil && hash == good {
			t.Fatal("a hash of another password matched")
		}
	})
}
