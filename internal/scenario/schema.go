package scenario

import (
	"encoding/json"
	"slices"
	"sync"

	"github.com/chathub/chathub/internal/crm"
)

// obj is a JSON Schema object under construction.
type obj = map[string]any

// Schema returns the JSON Schema (draft 2020-12) of scenario files, for
// editors (yaml-language-server: `# yaml-language-server: $schema=...`) and
// CI. The loader remains the authority: it also checks references, types of
// saved answers, templates and conditions.
func Schema() []byte {
	return slices.Clone(schemaJSON())
}

var schemaJSON = sync.OnceValue(func() []byte {
	b, err := json.MarshalIndent(schemaDoc(), "", "  ")
	if err != nil {
		panic("scenario: marshal schema: " + err.Error()) // static data; cannot happen
	}
	return append(b, '\n')
})

func schemaDoc() obj {
	return obj{
		"$schema":              "https://json-schema.org/draft/2020-12/schema",
		"$id":                  "https://github.com/chathub/chathub/scenario.schema.json",
		"title":                "chathub scenario",
		"description":          "A dialogue scenario of a chathub Telegram/VK bot (docs/SCENARIOS.md).",
		"type":                 "object",
		"required":             []string{"id", "steps"},
		"additionalProperties": false,
		// Top-level x- keys hold YAML anchors shared by steps; the loader
		// ignores them (extensionKey).
		"patternProperties": obj{extensionKeyPattern: desc(obj{}, "Ignored: a place for YAML anchors (&name) that steps reuse with *name.")},
		"properties": obj{
			"id":          str("Unique scenario id: lower-case latin letters, digits, _ and -.", `^[a-z0-9_-]+$`),
			"title":       desc(obj{"type": "string"}, "Human-readable title, shown to managers."),
			"description": desc(obj{"type": "string"}, "Operator's note on what the scenario is for."),
			"triggers":    triggersSchema(),
			"start":       desc(obj{"$ref": "#/$defs/stepRef"}, "The first step; default: the first step in the file."),
			"skip_word":   desc(obj{"type": "string", "minLength": 1}, `Caption of the skip button of steps with skip: true; default "`+DefaultSkipWord+`".`),
			"vars": desc(obj{"type": "object", "propertyNames": obj{"pattern": `^[A-Za-z_][A-Za-z0-9_]*$`}},
				"Static variables, visible as .vars.<name> in texts and vars.<name> in conditions."),
			"steps": desc(obj{
				"type": "object", "minProperties": 1,
				"propertyNames":        obj{"pattern": `^[A-Za-z0-9_-]+$`},
				"additionalProperties": obj{"$ref": "#/$defs/step"},
			}, "The steps by id, in the order they are written."),
		},
		"$defs": obj{
			"stepRef":  str("A step id.", `^[A-Za-z0-9_-]+$`),
			"tags":     tagsSchema(),
			"text":     desc(obj{"type": "string", "minLength": 1}, "A text/template text: {{ .client.first_name }}, {{ .answer }}, {{ .vars.<name> }}; functions join, default, lower, upper."),
			"step":     stepSchema(),
			"button":   buttonSchema(),
			"choice":   choiceSchema(),
			"validate": validateSchema(),
			"branch":   branchSchema(),
		},
	}
}

func desc(o obj, d string) obj {
	o["description"] = d
	return o
}

func str(d, pattern string) obj {
	return obj{"type": "string", "pattern": pattern, "description": d}
}

// oneOrMany accepts one item or a list of items.
func oneOrMany(item obj) obj {
	return obj{"oneOf": []any{item, obj{"type": "array", "items": item}}}
}

func tagsSchema() obj {
	return desc(oneOrMany(obj{"type": "string", "minLength": 1}), "A tag or a list of tags.")
}

func triggersSchema() obj {
	return desc(obj{
		"type": "object", "additionalProperties": false,
		"properties": obj{
			"commands": desc(oneOrMany(obj{"type": "string", "pattern": `^/?[A-Za-z0-9_]{1,32}$`}),
				"Bot commands without the slash (a leading / is stripped), matched lower-cased."),
			"keywords": desc(oneOrMany(obj{"type": "string", "minLength": 1}),
				"Messages that start the scenario, matched whole, case-insensitively."),
			"payloads": desc(oneOrMany(obj{"type": "string", "pattern": `^[A-Za-z0-9_\-.:=]{1,64}\*?$`}),
				"Deep-link payloads (Telegram /start <payload>, VK ref); a trailing * matches by prefix."),
		},
	}, "What starts the scenario.")
}

func stepSchema() obj {
	return desc(obj{
		"type": "object", "additionalProperties": false,
		"properties": obj{
			"say": desc(obj{"$ref": "#/$defs/text", "maxLength": MaxSayLen},
				"The message (the question of a step with an input); at most 81,920 characters (20 messages of 4,096; chathub validate counts an emoji such as 😀 as 2)."),
			"input": desc(obj{"enum": inputNames[1:]}, "What the step waits for; choice is implied by buttons/choices; none: a message that moves on at once."),
			"buttons": desc(obj{"type": "array", "minItems": 1, "items": obj{"oneOf": []any{
				obj{"type": "string", "minLength": 1, "maxLength": maxButtonText}, obj{"$ref": "#/$defs/button"}}}},
				"Options with their own routing and tags."),
			"choices": desc(obj{"type": "array", "minItems": 1, "items": obj{"oneOf": []any{
				obj{"type": "string", "minLength": 1, "maxLength": maxButtonText}, obj{"$ref": "#/$defs/choice"}}}},
				"Plain options; not together with buttons."),
			"multiple":  desc(obj{"type": "boolean"}, "Several options may be chosen; the answer is a list."),
			"done":      desc(obj{"type": "string", "minLength": 1}, `Caption of the button finishing a multi-select; default "`+DefaultDoneText+`".`),
			"free_text": desc(obj{"type": "boolean"}, "A choice also accepts a typed answer matching no option."),
			"validate":  obj{"$ref": "#/$defs/validate"},
			"save":      saveSchema(),
			"tag":       desc(obj{"$ref": "#/$defs/tags"}, "Tags added to the client when the step is answered (or passed)."),
			"untag":     desc(obj{"$ref": "#/$defs/tags"}, "Tags removed from the client."),
			"next": desc(obj{"oneOf": []any{obj{"$ref": "#/$defs/stepRef"},
				obj{"type": "array", "minItems": 1, "items": obj{"$ref": "#/$defs/branch"}}}},
				"The next step, or branches tried in order; a list ends with {goto: <step>}."),
			"end":     desc(obj{"type": "boolean"}, "End the conversation after this step."),
			"handoff": desc(obj{"oneOf": []any{obj{"type": "boolean"}, obj{"type": "string", "minLength": 1}}}, "Request a manager: true or a reason."),
			"skip":    desc(obj{"type": "boolean"}, "The client may skip the step with the skip word."),
			"remind":  remindSchema(),
		},
	}, "One step of the dialogue.")
}

func remindSchema() obj {
	return desc(obj{
		"type": "object", "additionalProperties": false, "required": []string{"after", "text"},
		"properties": obj{
			"after": desc(obj{"type": "string", "pattern": `^\s*(\d+d)?([0-9.]+(ns|us|µs|ms|s|m|h))*\s*$`, "minLength": 2},
				"How long after the question to remind: a duration such as 30m, 2h, 1h30m or 1d; at least 1m, at most 30d."),
			"text":  desc(obj{"$ref": "#/$defs/text", "maxLength": maxMessageLen}, "What the reminder says (a template like say:); the step's buttons go with it."),
			"times": desc(obj{"type": "integer", "minimum": 1, "maximum": MaxRemindTimes}, "How many reminders at most, each after: after the previous one; default 1."),
		},
	}, "Remind a client who has not answered the step's question (only on a step with an input).")
}

func saveSchema() obj {
	names := append(crm.FieldNames(), crm.SaveConsent)
	return desc(obj{"anyOf": []any{
		obj{"enum": names},
		obj{"type": "string", "pattern": `^attributes\.[A-Za-z0-9_-]+$`},
		obj{"type": "string", "pattern": `^vars\.[A-Za-z_][A-Za-z0-9_]*$`},
	}}, "Where the answer goes: a core field, consent, attributes.<key> or vars.<name>.")
}

func buttonSchema() obj {
	return obj{
		"type": "object", "additionalProperties": false, "required": []string{"text"},
		"properties": obj{
			"text":  desc(obj{"type": "string", "minLength": 1, "maxLength": maxButtonText}, "The caption (VK allows 40 characters)."),
			"value": desc(obj{"type": "string", "minLength": 1}, "The value saved and seen as answer; default: the text."),
			"next":  desc(obj{"$ref": "#/$defs/stepRef"}, "Where this option leads, overriding the step's next."),
			"tag":   obj{"$ref": "#/$defs/tags"},
			"untag": obj{"$ref": "#/$defs/tags"},
		},
	}
}

func choiceSchema() obj {
	return obj{
		"type": "object", "additionalProperties": false, "required": []string{"text"},
		"properties": obj{
			"text":  obj{"type": "string", "minLength": 1, "maxLength": maxButtonText},
			"value": desc(obj{"type": "string", "minLength": 1}, "Default: the text."),
		},
	}
}

func validateSchema() obj {
	date := obj{"anyOf": []any{obj{"const": "today"}, obj{"type": "string", "pattern": `^\d{4}-\d{2}-\d{2}$`}}}
	return desc(obj{
		"type": "object", "additionalProperties": false,
		"properties": obj{
			"min":      desc(obj{"type": "number"}, "Smallest number, or fewest options of a multi-select."),
			"max":      desc(obj{"type": "number"}, "Largest number, or most options of a multi-select."),
			"integer":  desc(obj{"type": "boolean"}, "A whole number is required (implied when saved to an integer field)."),
			"min_len":  desc(obj{"type": "integer", "minimum": 0}, "Fewest characters of a text."),
			"max_len":  desc(obj{"type": "integer", "minimum": 1}, "Most characters of a text."),
			"regex":    desc(obj{"type": "string", "minLength": 1}, "Go RE2 pattern the text must match."),
			"min_date": desc(date, "Earliest date: today or YYYY-MM-DD."),
			"max_date": desc(date, "Latest date: today or YYYY-MM-DD."),
			"error":    desc(obj{"$ref": "#/$defs/text"}, "Text that re-asks after an invalid answer."),
		},
	}, "Rules the answer must meet.")
}

func branchSchema() obj {
	return obj{
		"type": "object", "additionalProperties": false, "required": []string{"goto"},
		"properties": obj{
			"if":   desc(obj{"type": "string", "minLength": 1}, `An expr-lang condition, e.g. "answer < 18" or "'Фитнес' in answer".`),
			"goto": obj{"$ref": "#/$defs/stepRef"},
		},
	}
}
