export interface DocketServer {
  /** A connection string any MongoDB driver accepts. */
  uri: string;
  port: number;
  /** Stops the server (SIGTERM); resolves with its exit code (0: clean). */
  stop(): Promise<number>;
}
export function startDocket(options?: { bin?: string; replicaSet?: string; args?: string[] }): Promise<DocketServer>;
