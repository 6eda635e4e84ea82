package crm

import (
	"fmt"
	"sort"
	"unicode/utf8"
)

// FieldType is the value type of a core column.
type FieldType int

// Core column types.
const (
	TypeText FieldType = iota
	TypeInt
	TypeDate
	TypeEnum
	TypeBool
)

// String names the type for error messages.
func (t FieldType) String() string {
	switch t {
	case TypeInt:
		return "integer"
	case TypeDate:
		return "date"
	case TypeEnum:
		return "enum"
	case TypeBool:
		return "boolean"
	default:
		return "text"
	}
}

// Field describes one core column a scenario may `save:` into.
type Field struct {
	Name   string
	Type   FieldType
	Values []string // allowed values of an enum
	// Format names a normalisation the value must already have: "phone" (E.164)
	// or "email" (lower-case address). Empty for none.
	Format string
	// MaxLen caps a text or enum value in characters (runes): MaxTextLen
	// for every text column. A store refuses a longer value (ErrRejected).
	MaxLen int
	// Min and Max bound an integer value (both inclusive). A store refuses
	// a value outside them (ErrRejected).
	Min, Max int64
	// Indexed reports a column with a btree index in the CRM: a value too
	// long for the index would fail the whole write, so a step that saves
	// free text to it must set validate.max_len (scenario validate checks).
	Indexed bool
}

// MaxTextLen is the most characters a core text column takes. 255
// characters are at most 1,020 bytes of UTF-8, well under PostgreSQL's
// btree entry limit (about 2,700 bytes), so an indexed text column (city)
// never fails its index; longer free text belongs in attributes.
const MaxTextLen = 255

// Bounds of the integer core columns. Every one is a PostgreSQL INTEGER;
// the bounds are what a person's age or number of children can be.
const (
	MaxAge      = 150
	MaxChildren = 50
)

// Check reports why v cannot be stored in the field, "" when it can: a
// text longer than MaxLen or an integer outside Min..Max. The text names
// the limit, never the value.
func (f Field) Check(v any) string {
	switch f.Type {
	case TypeText, TypeEnum:
		if s, ok := v.(string); ok && f.MaxLen > 0 && utf8.RuneCountInString(s) > f.MaxLen {
			return fmt.Sprintf("longer than %d characters", f.MaxLen)
		}
	case TypeInt:
		if n, ok := intOf(v); ok && (n < f.Min || n > f.Max) {
			return fmt.Sprintf("outside %d..%d", f.Min, f.Max)
		}
	}
	return ""
}

// intOf reads an integer value of any Go integer type.
func intOf(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	}
	return 0, false
}

// Allows reports whether v is an allowed value of an enum field.
func (f Field) Allows(v string) bool {
	for _, a := range f.Values {
		if a == v {
			return true
		}
	}
	return false
}

// Special save targets that are not plain columns.
const (
	// SaveConsent records consent to data processing and mailings: a truthy
	// answer ("yes", "да", "true", "1") sets consent_at and subscribed; a falsy
	// one records nothing.
	SaveConsent = "consent"
	// AttributesPrefix starts a save target kept in the attributes JSON.
	AttributesPrefix = "attributes."
)

// coreFields is the catalogue of writable core columns (DOMAIN.md).
var coreFields = map[string]Field{
	"first_name":       {Name: "first_name", Type: TypeText, MaxLen: MaxTextLen},
	"last_name":        {Name: "last_name", Type: TypeText, MaxLen: MaxTextLen},
	"username":         {Name: "username", Type: TypeText, MaxLen: MaxTextLen},
	"phone":            {Name: "phone", Type: TypeText, MaxLen: MaxTextLen, Format: "phone"},
	"email":            {Name: "email", Type: TypeText, MaxLen: MaxTextLen, Format: "email"},
	"gender":           {Name: "gender", Type: TypeEnum, MaxLen: MaxTextLen, Values: []string{"male", "female"}},
	"birth_date":       {Name: "birth_date", Type: TypeDate},
	"age":              {Name: "age", Type: TypeInt, Min: 0, Max: MaxAge, Indexed: true},
	"city":             {Name: "city", Type: TypeText, MaxLen: MaxTextLen, Indexed: true},
	"region":           {Name: "region", Type: TypeText, MaxLen: MaxTextLen},
	"family_status":    {Name: "family_status", Type: TypeEnum, MaxLen: MaxTextLen, Values: []string{"single", "married", "divorced", "widowed"}},
	"children_count":   {Name: "children_count", Type: TypeInt, Min: 0, Max: MaxChildren},
	"income_level":     {Name: "income_level", Type: TypeEnum, MaxLen: MaxTextLen, Values: []string{"economy", "middle", "premium"}},
	"occupation":       {Name: "occupation", Type: TypeText, MaxLen: MaxTextLen},
	"source":           {Name: "source", Type: TypeText, MaxLen: MaxTextLen},
	"language":         {Name: "language", Type: TypeText, MaxLen: MaxTextLen},
	"lifecycle_stage":  {Name: "lifecycle_stage", Type: TypeEnum, MaxLen: MaxTextLen, Values: []string{"new", "lead", "customer", "regular", "lost"}},
	"temperature":      {Name: "temperature", Type: TypeEnum, MaxLen: MaxTextLen, Values: []string{"cold", "warm", "hot"}},
	"assigned_manager": {Name: "assigned_manager", Type: TypeText, MaxLen: MaxTextLen},
	"timezone":         {Name: "timezone", Type: TypeText, MaxLen: MaxTextLen},
	"subscribed":       {Name: "subscribed", Type: TypeBool},
}

// LookupField returns the core field called name.
func LookupField(name string) (Field, bool) {
	f, ok := coreFields[name]
	return f, ok
}

// FieldNames lists the writable core columns, sorted.
func FieldNames() []string {
	names := make([]string, 0, len(coreFields))
	for n := range coreFields {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
