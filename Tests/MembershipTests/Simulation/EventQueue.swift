/// A min-heap of timed events. Ties on time are broken by insertion order,
/// so a simulation is a pure function of its seed.
///
/// The heap holds only plain keys; the events wait in slots on the side, so
/// sifting moves a few integers instead of retaining and releasing event
/// payloads (it matters in debug builds, where the simulations run).
struct EventQueue<Event> {
    private struct Key {
        var time: Int64
        var order: UInt64
        var slot: Int

        func precedes(_ other: Key) -> Bool {
            self.time < other.time || (self.time == other.time && self.order < other.order)
        }
    }

    private var heap: [Key] = []
    private var slots: [Event?] = []
    private var freeSlots: [Int] = []
    private var inserted: UInt64 = 0

    var isEmpty: Bool { self.heap.isEmpty }
    var count: Int { self.heap.count }
    var nextTime: Int64? { self.heap.first?.time }

    mutating func push(_ event: Event, at time: Int64) {
        self.inserted += 1
        let slot: Int
        if let free = self.freeSlots.popLast() {
            slot = free
            self.slots[slot] = event
        } else {
            slot = self.slots.count
            self.slots.append(event)
        }
        let key = Key(time: time, order: self.inserted, slot: slot)
        var child = self.heap.count
        self.heap.append(key)
        while child > 0 {
            let parent = (child - 1) / 2
            guard key.precedes(self.heap[parent]) else { break }
            self.heap[child] = self.heap[parent]
            child = parent
        }
        self.heap[child] = key
    }

    mutating func pop() -> (time: Int64, event: Event)? {
        guard let top = self.heap.first else { return nil }
        let last = self.heap.removeLast()
        if !self.heap.isEmpty {
            var parent = 0
            let count = self.heap.count
            while true {
                let left = 2 * parent + 1
                guard left < count else { break }
                let right = left + 1
                let smaller = right < count && self.heap[right].precedes(self.heap[left]) ? right : left
                guard self.heap[smaller].precedes(last) else { break }
                self.heap[parent] = self.heap[smaller]
                parent = smaller
            }
            self.heap[parent] = last
        }
        let event = self.slots[top.slot].take()!
        self.freeSlots.append(top.slot)
        return (top.time, event)
    }
}
