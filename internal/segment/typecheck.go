package segment

// compareField type-checks col op v (op is never !=).
func compareField(u *unit, col *column, op string, v operand) (pred, error) {
	if v.kind == oNil || v.kind == oString && v.str == "" && (col.kind == kText || col.kind == kEnum) {
		if col.kind == kBool {
			return nil, u.errorAt(v.node, "%s is always true or false; compare it with true or false", col.name)
		}
		if op != "==" {
			return nil, u.errorAt(v.node, "only == and != compare with nil (a missing value)")
		}
		return colUnknown{col}, nil
	}
	val, err := fieldValue(u, col, v)
	if err != nil {
		return nil, err
	}
	if op != "==" && (col.kind == kText || col.kind == kEnum || col.kind == kBool) {
		return nil, u.errorAt(v.node, "%s is a %s field: compare it with == or !=, or use in [...]", col.name, col.kind)
	}
	if col.kind == kBool {
		if val.(bool) {
			return boolPred{col}, nil
		}
		return negate(boolPred{col}), nil
	}
	return colCmp{col: col, op: op, val: val}, nil
}

// fieldValue checks that v fits col and returns it in colCmp's form.
func fieldValue(u *unit, col *column, v operand) (any, error) {
	bad := func() error {
		return u.errorAt(v.node, "%s is a %s field; compare it with %s, not %s", col.name, col.kind, wants(col), v.describe())
	}
	switch col.kind {
	case kText:
		if v.kind != oString {
			return nil, bad()
		}
		return v.str, nil
	case kEnum:
		return enumValue(u, col, v, bad)
	case kInt:
		return intValue(u, col, v, bad)
	case kDate:
		if v.kind != oDate {
			if v.kind == oTime {
				return nil, u.errorAt(v.node, "%s is a date; compare it with date(\"YYYY-MM-DD\") (or use age)", col.name)
			}
			return nil, bad()
		}
		return v.date, nil
	case kTime:
		switch v.kind {
		case oTime:
			return v.tv, nil
		case oDate:
			return timeVal{kind: tvAbs, t: v.date}, nil
		}
		return nil, bad()
	case kBool:
		if v.kind != oBool {
			return nil, bad()
		}
		return v.b, nil
	}
	return nil, bad()
}

// wants describes the values col compares with.
func wants(col *column) string {
	switch col.kind {
	case kEnum:
		return "one of its values (" + joinQuoted(col.values) + ")"
	case kInt:
		return "a whole number"
	case kDate:
		return `date("YYYY-MM-DD")`
	case kTime:
		return `now(), ago("30d") or date("2026-01-01")`
	case kBool:
		return "true or false"
	}
	return "a string"
}

// enumValue checks an enum value, with a hint for a misspelt one.
func enumValue(u *unit, col *column, v operand, bad func() error) (any, error) {
	if v.kind != oString {
		return nil, bad()
	}
	for _, a := range col.values {
		if a == v.str {
			return v.str, nil
		}
	}
	if hint := didYouMean(v.str, col.values); hint != "" {
		return nil, u.errorAt(v.node, "%q is not a value of %s%s", v.str, col.name, hint)
	}
	return nil, u.errorAt(v.node, "%q is not a value of %s (values: %s)", v.str, col.name, joinQuoted(col.values))
}

// intValue checks a whole number for an integer column.
func intValue(u *unit, col *column, v operand, bad func() error) (any, error) {
	switch v.kind {
	case oInt:
		if v.num < -1<<31 || v.num > 1<<31-1 {
			return nil, u.errorAt(v.node, "%d is out of range for %s", v.num, col.name)
		}
		return v.num, nil
	case oFloat:
		return nil, u.errorAt(v.node, "%s holds whole numbers; compare it with one, not %s", col.name, formatNumber(v.f))
	}
	return nil, bad()
}

func joinQuoted(vs []string) string {
	out := ""
	for i, v := range vs {
		if i > 0 {
			out += ", "
		}
		out += `"` + v + `"`
	}
	return out
}

// compareAttr type-checks attributes.key op v (op is never !=).
func compareAttr(u *unit, key, op string, v operand) (pred, error) {
	switch v.kind {
	case oNil:
		if op != "==" {
			return nil, u.errorAt(v.node, "only == and != compare with nil (a missing value)")
		}
		return negate(attrKnown{key}), nil
	case oString:
		if op != "==" {
			return nil, u.errorAt(v.node, "attributes compare with <, <=, >, >= only as numbers; write attributes.%s %s 3", key, op)
		}
		if v.str == "" {
			return negate(attrKnown{key}), nil
		}
		return attrEq{key: key, val: v.str}, nil
	case oInt, oFloat:
		if op == "==" {
			return attrEq{key: key, val: v.f}, nil
		}
		return attrCmp{key: key, op: op, num: v.f}, nil
	case oBool:
		if op != "==" {
			return nil, u.errorAt(v.node, "true and false compare only with == and !=")
		}
		return attrEq{key: key, val: v.b}, nil
	}
	return nil, u.errorAt(v.node, "attributes hold text, numbers, true/false or lists; compare attributes.%s with one of those, not %s", key, v.describe())
}
