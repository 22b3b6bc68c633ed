/*
 * rbac_names.h: the closed vocabulary of resource types and actions
 * (docs/authorization.md §3, Coder at 007f4fc), as X-macros so that the enums,
 * the name tables and the per-type action sets come from one list.
 *
 * An action is a bit in a 32-bit mask.  RBAC_A_OTHER stands for an action
 * string outside the vocabulary: only a "*" action matches it.  Likewise
 * RBAC_T_OTHER stands for a type string outside the vocabulary: only a "*"
 * resource matches it.
 */

#ifndef RBAC_NAMES_H
#define RBAC_NAMES_H

#include "rbac_base.h"


#define RBAC_ACTIONS(X)                                                       \
    X(CREATE, "create")                                                       \
    X(READ, "read")                                                           \
    X(UPDATE, "update")                                                       \
    X(DELETE, "delete")                                                       \
    X(USE, "use")                                                             \
    X(SSH, "ssh")                                                             \
    X(APPLICATION_CONNECT, "application_connect")                             \
    X(VIEW_INSIGHTS, "view_insights")                                         \
    X(START, "start")                                                         \
    X(STOP, "stop")                                                           \
    X(ASSIGN, "assign")                                                       \
    X(UNASSIGN, "unassign")                                                   \
    X(READ_PERSONAL, "read_personal")                                         \
    X(UPDATE_PERSONAL, "update_personal")                                     \
    X(CREATE_AGENT, "create_agent")                                           \
    X(DELETE_AGENT, "delete_agent")                                           \
    X(UPDATE_AGENT, "update_agent")                                           \
    X(SHARE, "share")                                                         \
    X(USE_SHARED, "use_shared")

typedef enum {
#define RBAC_X(id, name)  RBAC_A_##id,
    RBAC_ACTIONS(RBAC_X)
#undef RBAC_X
    RBAC_NACTIONS,
    RBAC_A_OTHER = 31
} rbac_action_t;

typedef uint32_t  rbac_amask_t;

#define RBAC_ABIT(a)      ((rbac_amask_t) 1 << (a))
#define RBAC_AMASK_ALL    ((rbac_amask_t) 0xffffffff)   /* the "*" action */

#define RBAC_CRUD                                                             \
    (RBAC_ABIT(RBAC_A_CREATE) | RBAC_ABIT(RBAC_A_READ)                        \
     | RBAC_ABIT(RBAC_A_UPDATE) | RBAC_ABIT(RBAC_A_DELETE))
#define RBAC_AM(a)        RBAC_ABIT(RBAC_A_##a)
#define RBAC_WS12                                                             \
    (RBAC_CRUD | RBAC_AM(START) | RBAC_AM(STOP) | RBAC_AM(SSH)                \
     | RBAC_AM(APPLICATION_CONNECT) | RBAC_AM(CREATE_AGENT)                   \
     | RBAC_AM(DELETE_AGENT) | RBAC_AM(UPDATE_AGENT) | RBAC_AM(SHARE))


/* X(ID, "name", declared actions) */
#define RBAC_TYPES(X)                                                         \
    X(WORKSPACE, "workspace", RBAC_WS12)                                      \
    X(WORKSPACE_DORMANT, "workspace_dormant", RBAC_WS12)                      \
    X(PREBUILT_WORKSPACE, "prebuilt_workspace",                               \
      RBAC_AM(UPDATE) | RBAC_AM(DELETE))                                      \
    X(TEMPLATE, "template",                                                   \
      RBAC_CRUD | RBAC_AM(USE) | RBAC_AM(VIEW_INSIGHTS))                      \
    X(FILE, "file", RBAC_AM(CREATE) | RBAC_AM(READ))                          \
    X(ORGANIZATION, "organization", RBAC_CRUD)                                \
    X(ORGANIZATION_MEMBER, "organization_member", RBAC_CRUD)                  \
    X(GROUP, "group", RBAC_CRUD)                                              \
    X(GROUP_MEMBER, "group_member", RBAC_AM(READ))                            \
    X(USER, "user",                                                           \
      RBAC_CRUD | RBAC_AM(READ_PERSONAL) | RBAC_AM(UPDATE_PERSONAL))          \
    X(API_KEY, "api_key", RBAC_CRUD)                                          \
    X(ASSIGN_ROLE, "assign_role",                                             \
      RBAC_AM(ASSIGN) | RBAC_AM(UNASSIGN) | RBAC_AM(READ))                    \
    X(ASSIGN_ORG_ROLE, "assign_org_role",                                     \
      RBAC_CRUD | RBAC_AM(ASSIGN) | RBAC_AM(UNASSIGN))                        \
    X(PROVISIONER_DAEMON, "provisioner_daemon", RBAC_CRUD)                    \
    X(PROVISIONER_JOBS, "provisioner_jobs",                                   \
      RBAC_AM(CREATE) | RBAC_AM(READ) | RBAC_AM(UPDATE))                      \
    X(AUDIT_LOG, "audit_log", RBAC_AM(CREATE) | RBAC_AM(READ))                \
    X(CONNECTION_LOG, "connection_log", RBAC_AM(READ) | RBAC_AM(UPDATE))      \
    X(LICENSE, "license",                                                     \
      RBAC_AM(CREATE) | RBAC_AM(READ) | RBAC_AM(DELETE))                      \
    X(DEPLOYMENT_CONFIG, "deployment_config",                                 \
      RBAC_AM(READ) | RBAC_AM(UPDATE))                                        \
    X(DEPLOYMENT_STATS, "deployment_stats", RBAC_AM(READ))                    \
    X(REPLICAS, "replicas", RBAC_AM(READ))                                    \
    X(DEBUG_INFO, "debug_info", RBAC_AM(READ))                                \
    X(SYSTEM, "system", RBAC_CRUD)                                            \
    X(TAILNET_COORDINATOR, "tailnet_coordinator", RBAC_CRUD)                  \
    X(CRYPTO_KEY, "crypto_key", RBAC_CRUD)                                    \
    X(OAUTH2_APP, "oauth2_app", RBAC_CRUD)                                    \
    X(OAUTH2_APP_SECRET, "oauth2_app_secret", RBAC_CRUD)                      \
    X(OAUTH2_APP_CODE_TOKEN, "oauth2_app_code_token",                         \
      RBAC_AM(CREATE) | RBAC_AM(READ) | RBAC_AM(DELETE))                      \
    X(NOTIFICATION_MESSAGE, "notification_message", RBAC_CRUD)                \
    X(NOTIFICATION_TEMPLATE, "notification_template",                         \
      RBAC_AM(READ) | RBAC_AM(UPDATE))                                        \
    X(NOTIFICATION_PREFERENCE, "notification_preference",                     \
      RBAC_AM(READ) | RBAC_AM(UPDATE))                                        \
    X(INBOX_NOTIFICATION, "inbox_notification",                               \
      RBAC_AM(CREATE) | RBAC_AM(READ) | RBAC_AM(UPDATE))                      \
    X(WEBPUSH_SUBSCRIPTION, "webpush_subscription",                           \
      RBAC_AM(CREATE) | RBAC_AM(READ) | RBAC_AM(DELETE))                      \
    X(IDPSYNC_SETTINGS, "idpsync_settings",                                   \
      RBAC_AM(READ) | RBAC_AM(UPDATE))                                        \
    X(WORKSPACE_PROXY, "workspace_proxy", RBAC_CRUD)                          \
    X(WORKSPACE_BUILD_ORCHESTRATION, "workspace_build_orchestration",         \
      RBAC_CRUD)                                                              \
    X(WORKSPACE_AGENT_RESOURCE_MONITOR, "workspace_agent_resource_monitor",   \
      RBAC_AM(CREATE) | RBAC_AM(READ) | RBAC_AM(UPDATE))                      \
    X(WORKSPACE_AGENT_DEVCONTAINERS, "workspace_agent_devcontainers",         \
      RBAC_AM(CREATE))                                                        \
    X(USER_SECRET, "user_secret", RBAC_CRUD)                                  \
    X(USER_SKILL, "user_skill", RBAC_CRUD)                                    \
    X(USAGE_EVENT, "usage_event",                                             \
      RBAC_AM(CREATE) | RBAC_AM(READ) | RBAC_AM(UPDATE))                      \
    X(AIBRIDGE_INTERCEPTION, "aibridge_interception",                         \
      RBAC_AM(CREATE) | RBAC_AM(READ) | RBAC_AM(UPDATE))                      \
    X(AI_PROVIDER, "ai_provider", RBAC_CRUD)                                  \
    X(AI_GATEWAY_KEY, "ai_gateway_key", RBAC_CRUD)                            \
    X(AI_MODEL_PRICE, "ai_model_price", RBAC_AM(READ) | RBAC_AM(UPDATE))      \
    X(AI_SEAT, "ai_seat", RBAC_AM(CREATE) | RBAC_AM(READ))                    \
    X(BOUNDARY_LOG, "boundary_log",                                           \
      RBAC_AM(CREATE) | RBAC_AM(READ) | RBAC_AM(DELETE))                      \
    X(BOUNDARY_USAGE, "boundary_usage",                                       \
      RBAC_AM(READ) | RBAC_AM(UPDATE) | RBAC_AM(DELETE))                      \
    X(CHAT, "chat", RBAC_CRUD | RBAC_AM(SHARE))                               \
    X(CHAT_PROJECT, "chat_project", RBAC_CRUD | RBAC_AM(SHARE))               \
    X(CHAT_MODEL_CONFIG, "chat_model_config", RBAC_CRUD | RBAC_AM(SHARE))     \
    X(MCP_SERVER_CONFIG, "mcp_server_config", RBAC_CRUD | RBAC_AM(SHARE))

typedef enum {
#define RBAC_X(id, name, actions)  RBAC_T_##id,
    RBAC_TYPES(RBAC_X)
#undef RBAC_X
    RBAC_T_OTHER,           /* a type string outside the vocabulary */
    RBAC_NTYPES
} rbac_type_t;


/*
 * Name lookups.  rbac_action_from_name returns RBAC_A_OTHER for a string
 * outside the vocabulary; rbac_type_from_name returns RBAC_T_OTHER.  The
 * wildcard "*" is not a name: callers test for it first.
 */
rbac_action_t rbac_action_from_name(rbac_str_t name);
rbac_type_t rbac_type_from_name(rbac_str_t name);
const char *rbac_action_name(rbac_action_t a);     /* "other" for OTHER */
const char *rbac_type_name(rbac_type_t t);         /* "other" for OTHER */

/* The actions declared for a type (docs/authorization.md §3; 0 for OTHER). */
rbac_amask_t rbac_type_actions(rbac_type_t t);


#endif /* RBAC_NAMES_H */
