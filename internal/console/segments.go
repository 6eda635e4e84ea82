package console

import "net/http"

// SegmentPages is what Сегменты needs of the services. The zero value leaves
// the section "not ready yet".
type SegmentPages struct{}

// segmentRoutes registers Сегменты's routes and, when configured, its page in
// c.sectionPages.
func (c *Console) segmentRoutes(mux *http.ServeMux) {}
