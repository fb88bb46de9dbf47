package server

import (
	"fmt"
	"maps"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeCluster v0–v1 (KIP-700): the cluster ID, the controller (this
// node: Runnel's controller runs in the broker process) and every
// registered broker with the host, port and rack of the endpoint clients
// use. v1 adds EndpointType (KIP-919): a broker listener describes brokers
// (1); asking it for the controllers (2) is MISMATCHED_ENDPOINT_TYPE and
// any other type UNSUPPORTED_ENDPOINT_TYPE, both INVALID_REQUEST in v0,
// with Kafka's messages and no cluster data. ClusterAuthorizedOperations
// is Kafka's "not provided" value, -2147483648: Runnel has no authorizer
// yet.

// Endpoint types of DescribeCluster v1 (KIP-919).
const (
	endpointTypeBrokers     = 1
	endpointTypeControllers = 2
)

func (s *Server) handleDescribeCluster(req *kmsg.DescribeClusterRequest) *kmsg.DescribeClusterResponse {
	resp := req.ResponseKind().(*kmsg.DescribeClusterResponse)
	var refusal error
	switch req.EndpointType {
	case endpointTypeBrokers:
	case endpointTypeControllers:
		refusal = fmt.Errorf("%w: The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER", kerr.MismatchedEndpointType)
	default:
		refusal = fmt.Errorf("%w: Unsupported endpoint type %d", kerr.UnsupportedEndpointType, req.EndpointType)
	}
	if refusal != nil {
		if req.Version == 0 {
			refusal = fmt.Errorf("%w: %v", errInvalidRequest, refusal)
		}
		resp.ErrorCode = errorCode(refusal)
		resp.ErrorMessage = errorMessage(refusal)
		return resp
	}

	img := s.cfg.Controller.Image()
	resp.EndpointType = endpointTypeBrokers
	resp.ClusterID = img.ClusterID
	resp.ControllerID = s.cfg.NodeID
	for _, id := range slices.Sorted(maps.Keys(img.Brokers)) {
		b := img.Brokers[id]
		ep, ok := s.endpointFor(b)
		if !ok {
			continue
		}
		rb := kmsg.NewDescribeClusterResponseBroker()
		rb.NodeID = b.NodeID
		rb.Host = ep.Host
		rb.Port = ep.Port
		rb.Rack = rackPtr(b.Rack)
		resp.Brokers = append(resp.Brokers, rb)
	}
	resp.ClusterAuthorizedOperations = -2147483648
	return resp
}
