/// Site workspaces: provisioning, keys, the job store.
///
/// Placeholder so the module builds; replaced as the module is written.
public enum FerryWorkspaceModule {}
