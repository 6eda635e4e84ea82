package segment

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

// fakeLibrary is a map of saved expressions; err fails every lookup.
type fakeLibrary struct {
	saved map[string]string
	err   error
}

func (f fakeLibrary) SegmentExpression(_ context.Context, name string) (string, bool, error) {
	if f.err != nil {
		return "", false, f.err
	}
	src, ok := f.saved[name]
	return src, ok, nil
}

func compileWith(t *testing.T, lib Library, src string) (*Segment, error) {
	t.Helper()
	c, err := NewCompiler(Config{Library: lib})
	if err != nil {
		t.Fatal(err)
	}
	return c.Compile(context.Background(), src)
}

func TestSavedSegments(t *testing.T) {
	t.Parallel()
	lib := fakeLibrary{saved: map[string]string{
		"adults":   `age >= 18`,
		"moscow":   `city == "Москва"`,
		"target":   `segment("adults") and segment("moscow") and subscribed`,
		"loop-a":   `segment("loop-b")`,
		"loop-b":   `subscribed and segment("loop-a")`,
		"self":     `segment("self")`,
		"broken":   "subscribed and\n agee > 3",
		"uses-bad": `segment("broken")`,
		"missing":  `segment("nowhere")`,
	}}
	s, err := compileWith(t, lib, `segment("target") and not ("minor" in tags)`)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.References(); !slices.Equal(got, []string{"adults", "moscow", "target"}) {
		t.Errorf("References = %v", got)
	}
	if ok, _ := s.At(testNow).Match(marina(), nil); !ok {
		t.Error("Марина is not in segment(target)")
	}
	w, _ := s.At(testNow).SQL(Postgres)
	if !strings.Contains(w.SQL, "clients.age >= ?") || !strings.Contains(w.SQL, "clients.city = ?") {
		t.Errorf("saved segments not inlined: %s", w.SQL)
	}
	errs := []struct{ src, want string }{
		{`segment("loop-a")`, `segment:1:1: in saved segment "loop-a": loop-a:1:1: in saved segment "loop-b": loop-b:1:16: saved segments refer to each other in a cycle: loop-a → loop-b → loop-a`},
		{`segment("self")`, `segment:1:1: in saved segment "self": self:1:1: saved segments refer to each other in a cycle: self → self`},
		{`subscribed and segment("uses-bad")`, `segment:1:16: in saved segment "uses-bad": uses-bad:1:1: in saved segment "broken": broken:2:2: unknown field "agee" (did you mean "age"?)`},
		{`segment("nope")`, `segment:1:1: unknown saved segment "nope" (see chathub segment list)`},
		{`segment("missing")`, `segment:1:1: in saved segment "missing": missing:1:1: unknown saved segment "nowhere" (see chathub segment list)`},
		{`segment("bad name")`, `segment:1:9: segment name "bad name": use latin letters, digits, _ and -, starting with a letter or digit`},
		{`segment(name)`, `segment:1:9: segment takes a string literal, e.g. segment("adults")`},
	}
	for _, tt := range errs {
		_, err := compileWith(t, lib, tt.src)
		var e *Error
		if !errors.As(err, &e) || err.Error() != tt.want {
			t.Errorf("Compile(%q)\n got: %v\nwant: %s", tt.src, err, tt.want)
		}
	}
	if _, err := compileWith(t, lib, `segment("nope")`); !errors.Is(err, ErrUnknownSegment) {
		t.Errorf("unknown segment error does not wrap ErrUnknownSegment: %v", err)
	}
	var inner *Error
	if _, err := compileWith(t, lib, `segment("broken")`); !errors.As(errors.Unwrap(err), &inner) || inner.Source != "broken" || inner.Line != 2 {
		t.Errorf("inner error not reachable: %v", err)
	}
}

func TestSavedSegmentLibraryFailure(t *testing.T) {
	t.Parallel()
	boom := errors.New("database is down")
	_, err := compileWith(t, fakeLibrary{err: boom}, `segment("adults")`)
	var e *Error
	if !errors.Is(err, boom) || errors.As(err, &e) {
		t.Fatalf("library failure = %v; want it wrapped, not an *Error", err)
	}
}

func TestSavedSegmentDepth(t *testing.T) {
	t.Parallel()
	saved := map[string]string{}
	for i := range maxSavedDepth + 2 {
		saved[name(i)] = `segment("` + name(i+1) + `")`
	}
	saved[name(maxSavedDepth+2)] = "subscribed"
	_, err := compileWith(t, fakeLibrary{saved: saved}, `segment("s0")`)
	if err == nil || !strings.Contains(err.Error(), "nest more than 8 deep") {
		t.Fatalf("deep references: %v", err)
	}
}

func name(i int) string { return "s" + string(rune('0'+i)) }

func TestOverlay(t *testing.T) {
	t.Parallel()
	o := Overlay{Name: "adults", Expr: "age >= 21", Base: fakeLibrary{saved: map[string]string{"adults": "age >= 18", "moscow": "city == \"Москва\""}}}
	for _, tt := range []struct{ name, want string }{{"adults", "age >= 21"}, {"moscow", `city == "Москва"`}, {"none", ""}} {
		got, found, err := o.SegmentExpression(context.Background(), tt.name)
		if err != nil || got != tt.want || found != (tt.want != "") {
			t.Errorf("Overlay(%q) = %q, %t, %v", tt.name, got, found, err)
		}
	}
}

func TestReferences(t *testing.T) {
	t.Parallel()
	got := References(`segment("b") and (segment("a") or not segment("b")) and subscribed`)
	if !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("References = %v", got)
	}
	if got := References(`segment(`); got != nil {
		t.Errorf("References of a broken expression = %v", got)
	}
}

func TestReservedSegmentNames(t *testing.T) {
	t.Parallel()
	// Every fixed route under /api/segments/ and every `chathub segment`
	// subcommand, in any case, is refused at save time.
	for _, name := range []string{"count", "sample", "explain", "save", "list", "delete", "help", "Count", "SAMPLE"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := (&Definition{Name: name, Expression: "subscribed"}).Validate()
			if !errors.Is(err, ErrReservedName) || !strings.Contains(err.Error(), "choose another name") {
				t.Errorf("Validate(%q) = %v, want ErrReservedName", name, err)
			}
			if err := ValidateName(name); err != nil {
				t.Errorf("ValidateName(%q) = %v: a segment saved before the reservation must stay usable", name, err)
			}
		})
	}
	for _, name := range []string{"counts", "sample-2026", "listeners"} {
		if err := ValidateNewName(name); err != nil {
			t.Errorf("ValidateNewName(%q) = %v", name, err)
		}
	}
}

func TestDefinitionValidate(t *testing.T) {
	t.Parallel()
	good := []string{"adults", "moscow-25-40", "vip_2026", "A1"}
	for _, n := range good {
		if err := (&Definition{Name: n}).Validate(); err != nil {
			t.Errorf("Validate(%q): %v", n, err)
		}
	}
	bad := []Definition{
		{Name: ""}, {Name: "-x"}, {Name: "_x"}, {Name: "с кириллицей"}, {Name: "a b"}, {Name: strings.Repeat("a", 65)},
		{Name: "ok", Description: strings.Repeat("я", MaxDescriptionLength+1)},
		{Name: "ok", Description: "\xff"},
	}
	for _, d := range bad {
		if err := d.Validate(); err == nil {
			t.Errorf("Validate(%q, %d chars of description) accepted it", d.Name, len(d.Description))
		}
	}
}
