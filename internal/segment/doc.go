// Package segment is the language managers select broadcast recipients with:
// expressions in expr-lang syntax over the client portrait (core columns,
// tags, attributes, platform) and activity (answers, completed scenarios,
// last contact), for example
//
//	city == "Москва" and age >= 25 and "fitness" in attributes.interests and
//	subscribed and last_seen_at > ago("30d")
//
// Compile parses an expression with expr-lang's parser, checks every name
// against a whitelist (the crm field catalogue plus a few fixed names) and
// every value against the field's type, and returns a Segment. A Segment
// renders as a parameterised SQL WHERE fragment for PostgreSQL or SQLite
// (identifiers come only from the whitelist, values only as arguments) and
// evaluates in memory for one client (Match). Both sides implement the same
// two-valued logic: a comparison with an unknown value is false and `not`
// negates it, so SQL NULLs never leak into the answer. docs/SEGMENTS.md is
// the language reference.
//
// Compile errors are *Error values carrying the line and column of the
// offending part of the expression, with a "did you mean" hint for misspelt
// names. Saved segments (Definition, referenced as segment("name")) are
// resolved at compile time through a Library.
package segment
