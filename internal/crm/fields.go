package crm

import "sort"

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
	"first_name":       {Name: "first_name", Type: TypeText},
	"last_name":        {Name: "last_name", Type: TypeText},
	"username":         {Name: "username", Type: TypeText},
	"phone":            {Name: "phone", Type: TypeText, Format: "phone"},
	"email":            {Name: "email", Type: TypeText, Format: "email"},
	"gender":           {Name: "gender", Type: TypeEnum, Values: []string{"male", "female"}},
	"birth_date":       {Name: "birth_date", Type: TypeDate},
	"age":              {Name: "age", Type: TypeInt},
	"city":             {Name: "city", Type: TypeText},
	"region":           {Name: "region", Type: TypeText},
	"family_status":    {Name: "family_status", Type: TypeEnum, Values: []string{"single", "married", "divorced", "widowed"}},
	"children_count":   {Name: "children_count", Type: TypeInt},
	"income_level":     {Name: "income_level", Type: TypeEnum, Values: []string{"economy", "middle", "premium"}},
	"occupation":       {Name: "occupation", Type: TypeText},
	"source":           {Name: "source", Type: TypeText},
	"language":         {Name: "language", Type: TypeText},
	"lifecycle_stage":  {Name: "lifecycle_stage", Type: TypeEnum, Values: []string{"new", "lead", "customer", "regular", "lost"}},
	"temperature":      {Name: "temperature", Type: TypeEnum, Values: []string{"cold", "warm", "hot"}},
	"assigned_manager": {Name: "assigned_manager", Type: TypeText},
	"timezone":         {Name: "timezone", Type: TypeText},
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
