// The package ships no types: Redis Cluster's CRC16 hash slot of a key (hash tags honoured).
declare module 'cluster-key-slot' {
  export default function calculateSlot(key: string | Buffer): number;
}
