package account

// The actions the hub writes to the audit log (AuditEntry.Action). Every
// service that records an entry uses one of these constants, so the
// console can offer and label them all (AuditActions).
const (
	ActionLogin       = "login"
	ActionLoginFailed = "login.failed"
	ActionLogout      = "logout"

	ActionCampaignCreate = "campaign.create"
	ActionCampaignEdit   = "campaign.edit"
	ActionCampaignStart  = "campaign.start"
	ActionCampaignPause  = "campaign.pause"
	ActionCampaignResume = "campaign.resume"
	ActionCampaignCancel = "campaign.cancel"

	ActionClientEdit   = "client.edit"
	ActionClientDelete = "client.delete"
	ActionClientExport = "client.export"

	ActionSegmentSave   = "segment.save"
	ActionSegmentDelete = "segment.delete"

	ActionHandoffTake   = "handoff.take"
	ActionHandoffReply  = "handoff.reply"
	ActionHandoffReturn = "handoff.return"

	ActionUserAdd    = "user.add"
	ActionUserPasswd = "user.passwd"
	ActionUserRole   = "user.role"
	ActionUserRemove = "user.remove"
	// ActionUserLink and ActionUserUnlink: a messenger account linked to
	// a user (with /link CODE in the managers' team chat) or unlinked.
	ActionUserLink   = "user.link"
	ActionUserUnlink = "user.unlink"
)

// AuditActions lists every action the hub records, in the order a filter
// offers them (sign-ins, campaigns, clients, segments, users). The slice
// is new on every call.
func AuditActions() []string {
	return []string{
		ActionLogin, ActionLoginFailed, ActionLogout,
		ActionCampaignCreate, ActionCampaignEdit, ActionCampaignStart, ActionCampaignPause,
		ActionCampaignResume, ActionCampaignCancel,
		ActionClientEdit, ActionClientDelete, ActionClientExport,
		ActionSegmentSave, ActionSegmentDelete,
		ActionHandoffTake, ActionHandoffReply, ActionHandoffReturn,
		ActionUserAdd, ActionUserPasswd, ActionUserRole, ActionUserRemove,
		ActionUserLink, ActionUserUnlink,
	}
}
