package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
)

// TestListClientsFilters checks --id, --segment and --search of `chathub
// clients` on every backend.
func TestListClientsFilters(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := b.open(t)
			ctx := context.Background()
			platform := messenger.Platform(fmt.Sprintf("search%d", keySeq.Add(1)))
			people := []struct {
				first, last, user, phone, city string
			}{
				{"Анна", "Петрова", "anna_p", "+79123456789", "Самара"},
				{"анна", "Смирнова", "", "+79991112233", "Москва"},
				{"Пётр", "Аннин", "PETR", "+442079460958", "Самара"},
				{"Ivan", "Ivanov", "ivan_ivanov", "", "Москва"},
				{"100%_real", "", "", "", ""},
			}
			ids := map[string]int64{}
			for i, p := range people {
				var set []crm.FieldValue
				for f, v := range map[string]string{"first_name": p.first, "last_name": p.last, "phone": p.phone, "city": p.city} {
					if v != "" {
						set = append(set, crm.FieldValue{Field: f, Value: v})
					}
				}
				c := apply(t, s, messenger.ChatKey{Platform: platform, ID: fmt.Sprint(i)},
					&crm.Changes{Now: t0, Set: set, Profile: &messenger.Profile{Username: p.user}})
				ids[p.first+" "+p.last] = c.ID
			}
			moscow, err := s.CompileSegment(ctx, `city == "Москва"`)
			if err != nil {
				t.Fatal(err)
			}
			tests := []struct {
				name string
				opt  ListOptions
				want []string // first+" "+last, newest first
			}{
				{"id", ListOptions{ID: ids["Пётр Аннин"]}, []string{"Пётр Аннин"}},
				{"segment", ListOptions{Segment: moscow}, []string{"Ivan Ivanov", "анна Смирнова"}},
				{"segment and search", ListOptions{Segment: moscow, Search: "анна"}, []string{"анна Смирнова"}},
				{"name any case", ListOptions{Search: "АННА"}, []string{"анна Смирнова", "Анна Петрова"}},
				{"name prefix of last name too", ListOptions{Search: "Анн"}, []string{"Пётр Аннин", "анна Смирнова", "Анна Петрова"}},
				{"two words", ListOptions{Search: "анна пет"}, []string{"Анна Петрова"}},
				{"latin any case", ListOptions{Search: "IVAN"}, []string{"Ivan Ivanov"}},
				{"username prefix", ListOptions{Search: "anna_"}, []string{"Анна Петрова"}},
				{"@username exact any case", ListOptions{Search: "@petr"}, []string{"Пётр Аннин"}},
				{"@username not a prefix", ListOptions{Search: "@pet"}, nil},
				{"phone as typed", ListOptions{Search: "+7 912 345-67-89"}, []string{"Анна Петрова"}},
				{"phone with 8", ListOptions{Search: "8 (999) 111-22-33"}, []string{"анна Смирнова"}},
				{"phone 10 digits", ListOptions{Search: "9123456789"}, []string{"Анна Петрова"}},
				{"phone international", ListOptions{Search: "+44 20 7946 0958"}, []string{"Пётр Аннин"}},
				{"wildcards match literally", ListOptions{Search: "100%_"}, []string{"100%_real "}},
				{"percent alone matches nothing", ListOptions{Search: "%a"}, nil},
				{"underscore is no wildcard", ListOptions{Search: "ann_"}, nil},
				{"quote is data", ListOptions{Search: "' OR 1=1 --"}, nil},
			}
			for _, tt := range tests {
				opt := tt.opt
				opt.Platform = platform
				got, err := s.ListClients(ctx, opt)
				if err != nil {
					t.Errorf("%s: %v", tt.name, err)
					continue
				}
				var names []string
				for _, c := range got {
					names = append(names, c.FirstName+" "+c.LastName)
				}
				if !slices.Equal(names, tt.want) {
					t.Errorf("%s: got %q, want %q", tt.name, names, tt.want)
				}
			}
			for _, bad := range []string{"  --  ", string(make([]rune, MaxSearchLength+1))} {
				if _, err := s.ListClients(ctx, ListOptions{Platform: platform, Search: bad}); !errors.Is(err, ErrBadSearch) {
					t.Errorf("search %q: %v, want ErrBadSearch", bad, err)
				}
			}
		})
	}
}
