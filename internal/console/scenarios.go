package console

import "net/http"

// ScenarioPages is what Сценарии needs of the services. The zero value leaves
// the section "not ready yet".
type ScenarioPages struct{}

// scenarioRoutes registers Сценарии's routes and, when configured, its page in
// c.sectionPages.
func (c *Console) scenarioRoutes(mux *http.ServeMux) {}
