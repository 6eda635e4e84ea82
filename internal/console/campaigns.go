package console

import "net/http"

// CampaignPages is what Рассылки needs of the services. The zero value leaves
// the section "not ready yet".
type CampaignPages struct{}

// campaignRoutes registers Рассылки's routes and, when configured, its page in
// c.sectionPages.
func (c *Console) campaignRoutes(mux *http.ServeMux) {}
