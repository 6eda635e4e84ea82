package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chathub/chathub/internal/crm"
	"github.com/chathub/chathub/internal/messenger"
	"github.com/chathub/chathub/internal/segment"
)

// TestCountsDrivenByTag: CountSegment and CountClients (which render a
// segment with CountSQL: on PostgreSQL the first tag of the top-level AND
// is read from client_tags by id) count exactly the clients ListClients
// lists (which renders SQL), for tag tests driving the count, under NOT
// and OR, with a second tag, with a search, and for a tag nobody holds.
func TestCountsDrivenByTag(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := b.open(t)
			ctx := context.Background()
			platform := messenger.Platform(fmt.Sprintf("tagcount%d", keySeq.Add(1)))
			for i := range 12 {
				ch := &crm.Changes{Now: t0, Profile: &messenger.Profile{FirstName: []string{"Анна", "Борис", "Вера"}[i%3]}}
				if i%2 == 0 {
					ch.AddTags = append(ch.AddTags, "vip")
				}
				if i%3 == 0 {
					ch.AddTags = append(ch.AddTags, "wholesale")
				}
				ch.Consent = i%4 != 0
				apply(t, s, messenger.ChatKey{Platform: platform, ID: fmt.Sprint(i)}, ch)
			}
			for _, tt := range []struct {
				expr, search string
				want         int64
			}{
				{`"vip" in tags`, "", 6},
				{`"vip" in tags and subscribed`, "", 3},
				{`subscribed and "wholesale" in tags and "vip" in tags`, "", 1},
				{`"wholesale" in tags and "vip" in tags`, "", 2},
				{`not ("vip" in tags)`, "", 6},
				{`"vip" in tags or "wholesale" in tags`, "", 8},
				{`"vip" in tags`, "анна", 2},
				{`"nobody" in tags`, "", 0},
			} {
				seg, err := segment.Compile(tt.expr)
				if err != nil {
					t.Fatal(err)
				}
				opt := ListOptions{Platform: platform, Segment: seg, Search: tt.search, Limit: 100}
				listed, err := s.ListClients(ctx, opt)
				if err != nil {
					t.Fatalf("%s: %v", tt.expr, err)
				}
				n, err := s.CountClients(ctx, opt)
				if err != nil || n != tt.want || int64(len(listed)) != tt.want {
					t.Errorf("%s, search %q: CountClients %d (%v), ListClients %d; want %d",
						tt.expr, tt.search, n, err, len(listed), tt.want)
				}
			}
		})
	}
}

// TestCityAgeIndex: on PostgreSQL migration 19 leaves clients indexed on
// (city, age) with subscribed included, in place of the index on city
// alone, and a city segment's count still counts.
func TestCityAgeIndex(t *testing.T) {
	t.Parallel()
	skipPG(t)
	s := openPGTemp(t)
	q := "SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'clients' AND indexname = ?"
	if n := count(t, s, q, "clients_city_age_idx"); n != 1 {
		t.Errorf("clients_city_age_idx: %d indexes", n)
	}
	if n := count(t, s, q, "clients_city_idx"); n != 0 {
		t.Errorf("clients_city_idx still there")
	}
	def := ""
	if err := s.db.Raw("SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'clients_city_age_idx'").Scan(&def).Error; err != nil {
		t.Fatal(err)
	}
	if want := "(city, age) INCLUDE (subscribed)"; !strings.Contains(def, want) {
		t.Errorf("index %q, want %q in it", def, want)
	}
	apply(t, s, newKey(), &crm.Changes{Now: t0, Set: []crm.FieldValue{{Field: "city", Value: "Самара"}, {Field: "age", Value: 30}}, Consent: true})
	seg, err := segment.Compile(`city == "Самара" and age >= 25 and subscribed`)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.CountSegment(context.Background(), seg); err != nil || n != 1 {
		t.Errorf("CountSegment = %d, %v; want 1", n, err)
	}
}
