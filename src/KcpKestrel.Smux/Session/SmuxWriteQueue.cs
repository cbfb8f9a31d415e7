using System.Threading.Tasks.Sources;

namespace KcpKestrel.Smux.Session;

/// <summary>
/// The write loop's queue: many writers, one reader. An unbounded Channel allocated 32 B per item whenever items came
/// faster than the loop woke (its queue grew new segments), which is every v2 UPD burst and every busy data turn; this
/// keeps the items in a reused array and wakes the one reader through a reused value-task source.
/// </summary>
internal sealed class SmuxWriteQueue : IValueTaskSource<bool>
{
    private readonly Lock _lock = new();
    private readonly Queue<SmuxWriteItem> _items = new();
    private ManualResetValueTaskSourceCore<bool> _signal = new() { RunContinuationsAsynchronously = true };
    private bool _waiting;
    private bool _completed;

    /// <summary>Adds an item; false once completed (the item is dropped, as the session is closing).</summary>
    public bool TryWrite(in SmuxWriteItem item)
    {
        lock (_lock)
        {
            if (_completed)
            {
                return false;
            }

            _items.Enqueue(item);
            if (!_waiting)
            {
                return true;
            }

            _waiting = false;
        }

        _signal.SetResult(true);
        return true;
    }

    /// <summary>No more items; the reader still gets those queued, then <see cref="WaitToReadAsync"/> returns false.</summary>
    public void Complete()
    {
        lock (_lock)
        {
            if (_completed)
            {
                return;
            }

            _completed = true;
            if (!_waiting)
            {
                return;
            }

            _waiting = false;
        }

        // The reader waits only on an empty queue, and nothing can be added now.
        _signal.SetResult(false);
    }

    /// <summary>True when an item is there (at once, or once one comes); false when completed and drained. One reader only.</summary>
    public ValueTask<bool> WaitToReadAsync()
    {
        lock (_lock)
        {
            if (_items.Count > 0)
            {
                return new ValueTask<bool>(true);
            }

            if (_completed)
            {
                return new ValueTask<bool>(false);
            }

            _signal.Reset();
            _waiting = true;
            return new ValueTask<bool>(this, _signal.Version);
        }
    }

    public bool TryRead(out SmuxWriteItem item)
    {
        lock (_lock)
        {
            return _items.TryDequeue(out item);
        }
    }

    bool IValueTaskSource<bool>.GetResult(short token) => _signal.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _signal.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _signal.OnCompleted(continuation, state, token, flags);
}
