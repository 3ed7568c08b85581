// What the user's roles allow, following the services' default policies, so that
// pages hide what the API would refuse (the API still decides).

let session = null;

export function setSession(value) {
  session = value;
}

export function getSession() {
  return session;
}

export function hasRole(name) {
  return session.roles.includes(name);
}

export function isAdmin() {
  return hasRole("admin");
}

// member (or admin) may change the project's resources; reader may only look
export function canWrite() {
  return isAdmin() || hasRole("member");
}

export function hasService(type) {
  return session.services.includes(type);
}

const RULES = {
  admin: () => isAdmin(),
  write: () => canWrite(),
  read: () => true,
};

export function can(rule) {
  return (RULES[rule] || RULES.admin)();
}

export function volumeService() {
  if (hasService("volumev3")) return "volumev3";
  if (hasService("block-storage")) return "block-storage";
  return null;
}
