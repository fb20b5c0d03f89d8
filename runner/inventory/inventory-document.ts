// The shape of an Ansible YAML inventory (`all:` → hosts, children, vars). Static files are read into
// it and dynamic inventory plugins (the lab, aws_ec2) produce it, so one loader builds the model.

export interface GroupDocument {
  /** Host name → that host's variables (null when it has none: `node-1:`). */
  hosts?: Record<string, Record<string, unknown> | null>;
  children?: Record<string, GroupDocument | null>;
  vars?: Record<string, unknown>;
}

export interface InventoryDocument {
  all?: GroupDocument;
}
