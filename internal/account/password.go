package account

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2Params are the argon2id cost parameters of new password hashes.
// Verifying uses the parameters stored in each hash, so raising them later
// only affects passwords set afterwards.
type Argon2Params struct {
	// Memory in KiB.
	Memory uint32
	// Time is the number of passes.
	Time uint32
	// Threads is the parallelism.
	Threads uint8
}

// DefaultArgon2 is OWASP's argon2id recommendation of 19 MiB, 2 passes, 1
// thread: tens of milliseconds on one core and little memory, so a burst of
// logins on a 2-core server neither starves the bots nor runs out of memory.
var DefaultArgon2 = Argon2Params{Memory: 19 * 1024, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
)

var b64 = base64.RawStdEncoding

// hashPassword returns the PHC string
// $argon2id$v=19$m=…,t=…,p=…$salt$hash of password.
func hashPassword(password string, p Argon2Params) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

var errBadHash = errors.New("account: malformed password hash")

// maxMemory (1 GiB) and maxTime bound the parameters a stored hash may ask
// for, so a corrupt row cannot make a login allocate terabytes.
const (
	maxMemory = 1 << 20
	maxTime   = 64
)

// checkPassword reports whether password matches the PHC string hash, in
// time independent of where they differ.
func checkPassword(password, hash string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errBadHash
	}
	var p Argon2Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil ||
		p.Memory == 0 || p.Time == 0 || p.Threads == 0 || p.Memory > maxMemory || p.Time > maxTime {
		return false, errBadHash
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, errBadHash
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) < 16 || len(want) > 128 {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// passwordAlphabet has no look-alikes (0/O, 1/l/I) so a printed password
// can be typed without guessing.
const passwordAlphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// generatedLen characters of a 56-letter alphabet carry about 116 bits.
const generatedLen = 20

// GeneratePassword returns a random password of 20 characters from an
// alphabet without look-alike characters (about 116 bits).
func (s *Service) GeneratePassword() string {
	max := big.NewInt(int64(len(passwordAlphabet)))
	b := make([]byte, generatedLen)
	for i := range b {
		n, err := rand.Int(rand.Reader, max)
		if err != nil { // crypto/rand does not fail on supported systems
			panic(fmt.Sprintf("crypto/rand: %v", err))
		}
		b[i] = passwordAlphabet[n.Int64()]
	}
	return string(b)
}
