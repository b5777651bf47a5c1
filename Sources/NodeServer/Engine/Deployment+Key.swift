import Placement
import Rollout

extension Deployment {
    /// The version deciding `key` of `namespace`: the key's ``StableHash``,
    /// the same hash that places it on the ring.
    func version(namespace: String, key: String) -> String {
        version(forKeyHash: StableHash.hash64(namespace: namespace, key: key))
    }
}
