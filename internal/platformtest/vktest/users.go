package vktest

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
)

type user struct {
	first, last string
	sex         int
	bdate       string
	city        string
}

// SetUser sets what users.get tells about userID: sex (1 female, 2 male,
// 0 unknown), bdate ("d.m.yyyy", "d.m" or "") and the city title ("" for none).
func (s *Server) SetUser(userID, sex int, bdate, city string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userLocked(userID)
	u.sex, u.bdate, u.city = sex, bdate, city
}

// SetName sets the first and last name users.get answers for userID (default
// "User" and the id).
func (s *Server) SetName(userID int, first, last string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userLocked(userID)
	u.first, u.last = first, last
}

func (s *Server) userLocked(id int) *user {
	u, ok := s.users[id]
	if !ok {
		u = &user{first: "User", last: strconv.Itoa(id)}
		s.users[id] = u
	}
	return u
}

// usersGet serves users.get: user_ids (comma separated) and the optional
// fields sex, bdate, city.
func (s *Server) usersGet(p url.Values) (any, *apiError) {
	ids := strings.Split(firstNonEmpty(p.Get("user_ids"), p.Get("user_id")), ",")
	fields := strings.Split(p.Get("fields"), ",")
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]map[string]any, 0, len(ids))
	for _, raw := range ids {
		id, err := strconv.Atoi(strings.TrimSpace(raw))
		if err != nil || id <= 0 {
			return nil, paramError("user_ids is invalid")
		}
		out = append(out, s.userObjectLocked(id, fields))
	}
	return out, nil
}

func (s *Server) userObjectLocked(id int, fields []string) map[string]any {
	u := s.userLocked(id)
	obj := map[string]any{
		"id": id, "first_name": u.first, "last_name": u.last, "can_access_closed": true, "is_closed": false,
	}
	if slices.Contains(fields, "sex") {
		obj["sex"] = u.sex
	}
	if slices.Contains(fields, "bdate") && u.bdate != "" {
		obj["bdate"] = u.bdate
	}
	if slices.Contains(fields, "city") && u.city != "" {
		obj["city"] = map[string]any{"id": 1, "title": u.city}
	}
	return obj
}
