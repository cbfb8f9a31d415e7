namespace KcpKestrel.Shared;

/// <summary>
/// A hashed timing wheel with 1 ms slots, one per I/O loop, scheduling every session's next KCP
/// flush (its <c>Check()</c>) so no session needs a timer or thread of its own. Deadlines past the
/// wheel's span wait in their slot until a later turn reaches them. Loop thread only.
/// </summary>
internal sealed class TimerWheel
{
    private const int SlotCount = 4096; // a power of two: ~4 s of 1 ms slots
    private const int Mask = SlotCount - 1;
    private const int MaxLookahead = 50;

    private readonly TimerWheelEntry?[] _slots = new TimerWheelEntry?[SlotCount];
    private uint _lastTick;
    private bool _started;
    private TimerWheelEntry? _dueHead;

    public int Count { get; private set; }

    /// <summary>Schedules (or moves) an entry to fire at <paramref name="due"/> (ms, wrapping).</summary>
    public void Schedule(TimerWheelEntry entry, uint due)
    {
        if (!_started)
        {
            _lastTick = due - 1;
            _started = true;
        }

        // Never schedule into a slot the wheel already passed: it would wait a whole turn.
        if ((int)(due - _lastTick) <= 0)
        {
            due = _lastTick + 1;
        }

        if (entry.IsScheduled)
        {
            if (entry.WheelDue == due)
            {
                return;
            }

            Remove(entry);
        }

        var slot = (int)(due & Mask);
        entry.WheelDue = due;
        entry.WheelSlot = slot;
        entry.WheelPrev = null;
        entry.WheelNext = _slots[slot];
        if (entry.WheelNext is not null)
        {
            entry.WheelNext.WheelPrev = entry;
        }

        _slots[slot] = entry;
        Count++;
    }

    public void Remove(TimerWheelEntry entry)
    {
        if (!entry.IsScheduled)
        {
            return;
        }

        if (entry.WheelPrev is not null)
        {
            entry.WheelPrev.WheelNext = entry.WheelNext;
        }
        else
        {
            _slots[entry.WheelSlot] = entry.WheelNext;
        }

        if (entry.WheelNext is not null)
        {
            entry.WheelNext.WheelPrev = entry.WheelPrev;
        }

        entry.WheelNext = entry.WheelPrev = null;
        entry.WheelSlot = -1;
        Count--;
    }

    /// <summary>Milliseconds until the next slot that holds an entry, capped; -1 when empty.</summary>
    public int NextTimeout(uint now)
    {
        if (Count == 0)
        {
            return -1;
        }

        var behind = (int)(now - _lastTick);
        if (behind > 0)
        {
            return 0;
        }

        for (var i = 1; i <= MaxLookahead; i++)
        {
            if (_slots[(int)((_lastTick + (uint)i) & Mask)] is not null)
            {
                return i;
            }
        }

        return MaxLookahead;
    }

    /// <summary>Fires, in due order of slots, every entry due at or before <paramref name="now"/>.</summary>
    public void Advance(uint now)
    {
        if (!_started)
        {
            _lastTick = now;
            _started = true;
            return;
        }

        var ticks = (int)(now - _lastTick);
        if (ticks <= 0)
        {
            return;
        }

        // After a stall longer than a turn, every slot is visited once.
        var steps = Math.Min(ticks, SlotCount);
        for (var i = 1; i <= steps; i++)
        {
            var slot = (int)((_lastTick + (uint)i) & Mask);
            var entry = _slots[slot];
            while (entry is not null)
            {
                var next = entry.WheelNext;
                if ((int)(now - entry.WheelDue) >= 0)
                {
                    Remove(entry);
                    entry.WheelFireNext = _dueHead;
                    _dueHead = entry;
                }

                entry = next;
            }
        }

        _lastTick = now;

        // Fire after unlinking everything due, so callbacks may reschedule freely.
        while (_dueHead is not null)
        {
            var entry = _dueHead;
            _dueHead = entry.WheelFireNext;
            entry.WheelFireNext = null;

            // An earlier callback may have rescheduled it; then its new deadline stands.
            if (!entry.IsScheduled)
            {
                entry.OnTimer(now);
            }
        }
    }
}
