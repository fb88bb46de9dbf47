package rest

import (
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/runnel/runnel/connect"
)

// The endpoints, in the order of Kafka's RootResource, ConnectorsResource,
// ConnectorPluginsResource and LoggingResource.

func badRequest(format string, args ...any) error {
	return connect.Errorf(http.StatusBadRequest, format, args...)
}

// bodyError turns a decoding error into a 400 naming the problem.
func bodyError(err error) error {
	if errors.Is(err, errBody) {
		return badRequest("%s", strings.TrimPrefix(err.Error(), errBody.Error()+": "))
	}
	return err
}

// queryBool reads a boolean query parameter as Jersey does (true only for
// "true", any case), with a default when absent.
func queryBool(r *http.Request, name string, def bool) bool {
	v, ok := r.URL.Query()[name]
	if !ok || len(v) == 0 {
		return def
	}
	return strings.EqualFold(v[0], "true")
}

func (a *API) serverInfo(r *http.Request, _ []byte) (int, any, error) {
	return http.StatusOK, connect.ServerInfo{Version: a.cfg.Version, Commit: a.cfg.Commit, KafkaClusterID: a.cfg.Herder.KafkaClusterID()}, nil
}

// workerStatus is the body of GET /health.
type workerStatus struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

func (a *API) health(r *http.Request, _ []byte) (int, any, error) {
	err := a.cfg.Herder.Health(r.Context())
	switch {
	case err == nil:
		return http.StatusOK, workerStatus{"healthy", "Worker has completed startup and is ready to handle requests."}, nil
	case connect.StatusCode(err) == http.StatusServiceUnavailable:
		return http.StatusServiceUnavailable, workerStatus{"starting", "Worker is still starting up."}, nil
	}
	return http.StatusInternalServerError, workerStatus{"unhealthy", "Worker was unable to handle this request and may be unable to handle other requests."}, nil
}

// expansion is one connector's entry of GET /connectors?expand=…; its
// fields are written in the order the expand parameters name them.
type expansion struct {
	order  []string
	status *connect.ConnectorStateInfo
	info   *connect.ConnectorInfo
}

func (e expansion) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	n := 0
	for _, k := range e.order {
		var v any
		switch k {
		case "status":
			v = e.status
		case "info":
			v = e.info
		}
		data, err := marshal(v)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		b.WriteString(strconv.Quote(k) + ":")
		b.Write(data)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

func (a *API) listConnectors(r *http.Request, _ []byte) (int, any, error) {
	h := a.cfg.Herder
	names, err := h.Connectors(r.Context())
	if err != nil {
		return 0, nil, err
	}
	expand, ok := r.URL.Query()["expand"]
	if !ok {
		if names == nil {
			names = []string{}
		}
		return http.StatusOK, names, nil
	}
	var order []string
	for _, e := range expand {
		if (e == "status" || e == "info") && !contains(order, e) {
			order = append(order, e)
		}
	}
	out := make(map[string]expansion, len(names))
	for _, name := range names {
		e := expansion{order: order}
		gone := false
		for _, k := range order {
			switch k {
			case "status":
				st, err := h.ConnectorStatus(r.Context(), name)
				if errors.Is(err, connect.ErrNotFound) {
					gone = true
				} else if err != nil {
					return 0, nil, err
				}
				e.status = &st
			case "info":
				info, err := h.ConnectorInfo(r.Context(), name)
				if errors.Is(err, connect.ErrNotFound) {
					gone = true
				} else if err != nil {
					return 0, nil, err
				}
				e.info = &info
			}
		}
		// A connector deleted while we looked it up is left out, as Kafka does.
		if !gone {
			out[name] = e
		}
	}
	return http.StatusOK, out, nil
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// checkConfigName puts name into config, or rejects a config whose own
// "name" differs from it.
func checkConfigName(name string, config map[string]*string) error {
	if inc, ok := config["name"]; ok && inc != nil {
		if *inc != name {
			return badRequest("Connector name configuration (%s) doesn't match connector name in the URL (%s)", *inc, name)
		}
		return nil
	}
	config["name"] = &name
	return nil
}

// plainConfig rejects null values, naming the key, and returns the
// configuration as plain strings.
func plainConfig(config map[string]*string) (map[string]string, error) {
	out := make(map[string]string, len(config))
	var nulls []string
	for k, v := range config {
		if v == nil {
			nulls = append(nulls, k)
			continue
		}
		out[k] = *v
	}
	if len(nulls) > 0 {
		sort.Strings(nulls)
		msg := "Connector configuration is invalid and contains the following " + strconv.Itoa(len(nulls)) + " error(s):"
		for _, k := range nulls {
			msg += "\nNull value can not be supplied as the configuration value of " + k + "."
		}
		return nil, badRequest("%s\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`", msg)
	}
	return out, nil
}

func location(name string) string {
	return "/connectors/" + url.PathEscape(name)
}

// created answers 201 with a Location header, as Kafka's Response.created.
type created struct {
	location string
	body     any
}

func (a *API) createConnector(r *http.Request, body []byte) (int, any, error) {
	req, err := decodeCreateRequest(body)
	if err != nil {
		return 0, nil, bodyError(err)
	}
	name := ""
	if req.Name != nil {
		name = strings.TrimSpace(*req.Name)
	}
	if req.Config == nil {
		return 0, nil, badRequest("Connector config is missing: the request body needs a \"config\" object")
	}
	if err := checkConfigName(name, req.Config); err != nil {
		return 0, nil, err
	}
	var initial connect.TargetState
	if req.InitialState != nil {
		if initial, err = connect.ParseInitialState(*req.InitialState); err != nil {
			return 0, nil, err
		}
	}
	config, err := plainConfig(req.Config)
	if err != nil {
		return 0, nil, err
	}
	info, _, err := a.cfg.Herder.PutConnectorConfig(r.Context(), name, config, initial, false)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, created{location(name), info}, nil
}

func (a *API) getConnector(r *http.Request, _ []byte) (int, any, error) {
	info, err := a.cfg.Herder.ConnectorInfo(r.Context(), r.PathValue("connector"))
	return http.StatusOK, info, err
}

func (a *API) deleteConnector(r *http.Request, _ []byte) (int, any, error) {
	return http.StatusNoContent, nil, a.cfg.Herder.DeleteConnector(r.Context(), r.PathValue("connector"))
}

func (a *API) getConnectorConfig(r *http.Request, _ []byte) (int, any, error) {
	c, err := a.cfg.Herder.ConnectorConfig(r.Context(), r.PathValue("connector"))
	return http.StatusOK, c, err
}

func (a *API) putConnectorConfig(r *http.Request, body []byte) (int, any, error) {
	name := r.PathValue("connector")
	cfg, err := decodeConfigBody(body)
	if err != nil {
		return 0, nil, bodyError(err)
	}
	if cfg == nil {
		return 0, nil, badRequest("Connector config is missing: the request body must be a JSON object")
	}
	if err := checkConfigName(name, cfg); err != nil {
		return 0, nil, err
	}
	config, err := plainConfig(cfg)
	if err != nil {
		return 0, nil, err
	}
	info, isNew, err := a.cfg.Herder.PutConnectorConfig(r.Context(), name, config, "", true)
	if err != nil {
		return 0, nil, err
	}
	if isNew {
		return http.StatusCreated, created{location(name), info}, nil
	}
	return http.StatusOK, info, nil
}

func (a *API) patchConnectorConfig(r *http.Request, body []byte) (int, any, error) {
	patch, err := decodeConfigBody(body)
	if err != nil {
		return 0, nil, bodyError(err)
	}
	if patch == nil {
		return 0, nil, badRequest("Connector config patch is missing: the request body must be a JSON object")
	}
	info, err := a.cfg.Herder.PatchConnectorConfig(r.Context(), r.PathValue("connector"), patch)
	return http.StatusOK, info, err
}

func (a *API) connectorStatus(r *http.Request, _ []byte) (int, any, error) {
	st, err := a.cfg.Herder.ConnectorStatus(r.Context(), r.PathValue("connector"))
	return http.StatusOK, st, err
}

func (a *API) restartConnector(r *http.Request, _ []byte) (int, any, error) {
	req := connect.RestartRequest{
		Connector:    r.PathValue("connector"),
		IncludeTasks: queryBool(r, "includeTasks", false),
		OnlyFailed:   queryBool(r, "onlyFailed", false),
	}
	if req.ConnectorOnly() {
		return http.StatusNoContent, nil, a.cfg.Herder.RestartConnector(r.Context(), req.Connector)
	}
	st, err := a.cfg.Herder.RestartConnectorAndTasks(r.Context(), req)
	return http.StatusAccepted, st, err
}

func (a *API) pauseConnector(r *http.Request, _ []byte) (int, any, error) {
	return http.StatusAccepted, nil, a.cfg.Herder.PauseConnector(r.Context(), r.PathValue("connector"))
}

func (a *API) resumeConnector(r *http.Request, _ []byte) (int, any, error) {
	return http.StatusAccepted, nil, a.cfg.Herder.ResumeConnector(r.Context(), r.PathValue("connector"))
}

func (a *API) stopConnector(r *http.Request, _ []byte) (int, any, error) {
	return http.StatusNoContent, nil, a.cfg.Herder.StopConnector(r.Context(), r.PathValue("connector"))
}

func (a *API) taskConfigs(r *http.Request, _ []byte) (int, any, error) {
	tasks, err := a.cfg.Herder.TaskConfigs(r.Context(), r.PathValue("connector"))
	if tasks == nil {
		tasks = []connect.TaskInfo{}
	}
	return http.StatusOK, tasks, err
}

// tasksConfig is the deprecated GET /connectors/{c}/tasks-config: each
// task's configuration keyed by "<connector>-<task>".
func (a *API) tasksConfig(r *http.Request, _ []byte) (int, any, error) {
	name := r.PathValue("connector")
	a.log.Warn("The 'GET /connectors/{connector}/tasks-config' endpoint is deprecated; use 'GET /connectors/{connector}/tasks'", "connector", name)
	tasks, err := a.cfg.Herder.TaskConfigs(r.Context(), name)
	if err != nil {
		return 0, nil, err
	}
	out := make(map[string]map[string]string, len(tasks))
	for _, t := range tasks {
		out[t.ID.String()] = t.Config
	}
	return http.StatusOK, out, nil
}

// taskID reads the {task} path value; a non-integer is a 404, as Jersey
// answers a path that does not match.
func taskID(r *http.Request) (connect.TaskID, error) {
	n, err := strconv.ParseInt(r.PathValue("task"), 10, 32)
	if err != nil {
		return connect.TaskID{}, connect.Errorf(http.StatusNotFound, "HTTP 404 Not Found")
	}
	return connect.TaskID{Connector: r.PathValue("connector"), Task: int(n)}, nil
}

func (a *API) taskStatus(r *http.Request, _ []byte) (int, any, error) {
	id, err := taskID(r)
	if err != nil {
		return 0, nil, err
	}
	st, err := a.cfg.Herder.TaskStatus(r.Context(), id)
	return http.StatusOK, st, err
}

func (a *API) restartTask(r *http.Request, _ []byte) (int, any, error) {
	id, err := taskID(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, a.cfg.Herder.RestartTask(r.Context(), id)
}

// activeTopics is one connector's entry of GET /connectors/{c}/topics.
type activeTopics struct {
	Topics []string `json:"topics"`
}

func (a *API) activeTopics(r *http.Request, _ []byte) (int, any, error) {
	if !a.cfg.TopicTrackingEnable {
		return 0, nil, connect.Errorf(http.StatusForbidden, "Topic tracking is disabled.")
	}
	name := r.PathValue("connector")
	topics, err := a.cfg.Herder.ConnectorActiveTopics(r.Context(), name)
	if err != nil {
		return 0, nil, err
	}
	if topics == nil {
		topics = []string{}
	}
	return http.StatusOK, map[string]activeTopics{name: {topics}}, nil
}

func (a *API) resetActiveTopics(r *http.Request, _ []byte) (int, any, error) {
	if !a.cfg.TopicTrackingEnable {
		return 0, nil, connect.Errorf(http.StatusForbidden, "Topic tracking is disabled.")
	}
	if !a.cfg.TopicTrackingAllowReset {
		return 0, nil, connect.Errorf(http.StatusForbidden, "Topic tracking reset is disabled.")
	}
	return http.StatusAccepted, nil, a.cfg.Herder.ResetConnectorActiveTopics(r.Context(), r.PathValue("connector"))
}

func (a *API) getOffsets(r *http.Request, _ []byte) (int, any, error) {
	offs, err := a.cfg.Herder.ConnectorOffsets(r.Context(), r.PathValue("connector"))
	if offs.Offsets == nil {
		offs.Offsets = []connect.ConnectorOffset{}
	}
	return http.StatusOK, offs, err
}

// message is Kafka's {"message":…} body.
type message struct {
	Message string `json:"message"`
}

func (a *API) alterOffsets(r *http.Request, body []byte) (int, any, error) {
	req, err := decodeOffsets(body)
	if err != nil {
		return 0, nil, bodyError(err)
	}
	if len(req.Offsets) == 0 {
		return 0, nil, badRequest("Partitions / offsets need to be provided for an alter offsets request")
	}
	offs := make([]connect.ConnectorOffset, len(req.Offsets))
	for i, e := range req.Offsets {
		if e.Partition == nil {
			return 0, nil, badRequest("offsets[%d].partition: the partition of an offset may not be null or missing", i)
		}
		offs[i] = connect.ConnectorOffset{Partition: e.Partition, Offset: e.Offset}
	}
	msg, err := a.cfg.Herder.AlterConnectorOffsets(r.Context(), r.PathValue("connector"), offs)
	return http.StatusOK, message{msg}, err
}

func (a *API) resetOffsets(r *http.Request, _ []byte) (int, any, error) {
	msg, err := a.cfg.Herder.ResetConnectorOffsets(r.Context(), r.PathValue("connector"))
	return http.StatusOK, message{msg}, err
}

func (a *API) listPlugins(r *http.Request, _ []byte) (int, any, error) {
	return http.StatusOK, a.cfg.Herder.Plugins().Plugins(queryBool(r, "connectorsOnly", true)), nil
}

func (a *API) pluginConfig(r *http.Request, _ []byte) (int, any, error) {
	keys, err := a.cfg.Herder.ConnectorPluginConfig(r.Context(), r.PathValue("plugin"))
	return http.StatusOK, keys, err
}

// normalizedPluginName drops a trailing "Connector", so that a full class
// name, its simple name and its alias compare alike.
func normalizedPluginName(s string) string {
	if strings.HasSuffix(s, "Connector") && len(s) > len("Connector") {
		return s[:len(s)-len("Connector")]
	}
	return s
}

func (a *API) validate(r *http.Request, body []byte) (int, any, error) {
	plugin := r.PathValue("plugin")
	cfg, err := decodeConfigBody(body)
	if err != nil {
		return 0, nil, bodyError(err)
	}
	if cfg == nil {
		return 0, nil, badRequest("Connector config is missing: the request body must be a JSON object")
	}
	if c := cfg["connector.class"]; c != nil && !strings.HasSuffix(normalizedPluginName(*c), normalizedPluginName(plugin)) {
		return 0, nil, badRequest("Included connector type %s does not match request type %s", *c, plugin)
	}
	config, err := plainConfig(cfg)
	if err != nil {
		return 0, nil, err
	}
	infos, err := a.cfg.Herder.ValidateConnectorConfig(r.Context(), config)
	return http.StatusOK, infos, err
}

func (a *API) listLoggers(r *http.Request, _ []byte) (int, any, error) {
	return http.StatusOK, a.cfg.Herder.Loggers().All(), nil
}

func (a *API) getLogger(r *http.Request, _ []byte) (int, any, error) {
	return http.StatusOK, a.cfg.Herder.Loggers().Level(r.PathValue("logger")), nil
}

func (a *API) setLogger(r *http.Request, body []byte) (int, any, error) {
	cfg, err := decodeConfigBody(body)
	if err != nil {
		return 0, nil, bodyError(err)
	}
	lvl := cfg["level"]
	if lvl == nil {
		return 0, nil, badRequest("Desired 'level' parameter was not specified in request.")
	}
	ns := r.PathValue("logger")
	if strings.EqualFold(r.URL.Query().Get("scope"), "cluster") {
		if _, err := a.cfg.Herder.Loggers().Set(ns, *lvl); err != nil && errors.Is(err, connect.ErrNotFound) {
			return 0, nil, err
		}
		return http.StatusNoContent, nil, a.cfg.Herder.SetClusterLoggerLevel(r.Context(), ns, *lvl)
	}
	affected, err := a.cfg.Herder.Loggers().Set(ns, *lvl)
	return http.StatusOK, affected, err
}
