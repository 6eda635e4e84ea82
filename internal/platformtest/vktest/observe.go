package vktest

// Deduped counts the sends to a peer that VK's random_id check answered with
// the message the peer already has (a retry that delivered nothing new).
func (s *Server) Deduped() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.msgs.deduped
}

// Delivered counts the messages the bot sent, over every peer (after the
// random_id dedupe).
func (s *Server) Delivered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.msgs.byID)
}

// SetOnSend calls fn for every message a messages.send delivers to a peer
// (each peer of a peer_ids send, each call inside an execute), before the
// request is answered: a new message with deduped false, a send VK's
// random_id check answered with the peer's earlier message with that one
// and deduped true. A test can, for example, kill the sender at an exact
// point: the message delivered, its answer never read. fn runs with the
// server's lock held: it must return quickly and not call the Server. nil
// removes it.
func (s *Server) SetOnSend(fn func(m Message, deduped bool)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onSend = fn
}
