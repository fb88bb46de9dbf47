package server

import (
	"github.com/runnel/runnel/broker/controller"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// IncrementalAlterConfigs v0–v1 (KIP-339): each config of a resource is
// changed by its own operation, and configs not named keep their values.
// SET (0) sets a value, DELETE (1) removes an override so the value falls
// back to the broker's or the default, APPEND (2) and SUBTRACT (3) add or
// remove items of a LIST config (cleanup.policy, ...), starting from the
// config's default when it has no dynamic value (APPEND compact to
// cleanup.policy gives "delete,compact", as in Kafka); APPEND or SUBTRACT
// on any other type is INVALID_CONFIG, an unknown operation
// INVALID_REQUEST. Topics (resource type 2) and brokers (type 4: this
// node's ID, or "" for the cluster-wide default) are supported; other
// types answer INVALID_REQUEST.
//
// The checks and their order are AlterConfigs' (see 33_alter_configs.go),
// except that DELETE may carry a null value. ValidateOnly runs every check
// and changes nothing.

func (s *Server) handleIncrementalAlterConfigs(req *kmsg.IncrementalAlterConfigsRequest) *kmsg.IncrementalAlterConfigsResponse {
	resp := req.ResponseKind().(*kmsg.IncrementalAlterConfigsResponse)
	dups := duplicateResources(req.Resources, func(r kmsg.IncrementalAlterConfigsRequestResource) resourceKey {
		return resourceKey{r.ResourceType, r.ResourceName}
	})
	img := s.cfg.Controller.Image()
	for _, rr := range req.Resources {
		out := kmsg.NewIncrementalAlterConfigsResponseResource()
		out.ResourceType = rr.ResourceType
		out.ResourceName = rr.ResourceName
		ops := make([]controller.ConfigOp, 0, len(rr.Configs))
		for _, c := range rr.Configs {
			ops = append(ops, controller.ConfigOp{Name: c.Name, Op: controller.OpType(c.Op), Value: c.Value})
		}
		var err error
		if dups[resourceKey{rr.ResourceType, rr.ResourceName}] {
			err = errDuplicateResource
		} else {
			err = s.alterConfigs(img, rr.ResourceType, rr.ResourceName, ops, false, req.ValidateOnly)
		}
		if err != nil {
			out.ErrorCode = errorCode(err)
			out.ErrorMessage = errorMessage(err)
		}
		resp.Resources = append(resp.Resources, out)
	}
	return resp
}
