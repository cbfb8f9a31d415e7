using System.Buffers;
using System.Collections.Immutable;
using System.Runtime.CompilerServices;

namespace KcpKestrel.Middleware.Pipes;

/// <summary>
/// The observers of one direction of a connection's transport, behind one wrapper: reads and flushes wait for
/// the longest delay any of them asks for, and every observer sees every byte. Observers are added when a
/// middleware enters (before the connection's first read) and removed when it returns; the array is replaced,
/// never changed in place, so a reader or writer always sees a consistent set.
/// </summary>
internal sealed class PipeObserverSet : IPipeObserver
{
    // Replaced whole, never changed in place (ImmutableInterlocked), so a reader always sees a consistent set.
    private ImmutableArray<IPipeObserver> _observers = [];

    public int Count => _observers.Length;

    public void Add(IPipeObserver observer) => ImmutableInterlocked.Update(ref _observers, static (set, o) => set.Add(o), observer);

    public void Remove(IPipeObserver observer) => ImmutableInterlocked.Update(ref _observers, static (set, o) => set.Remove(o), observer);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public TimeSpan GetReadDelay()
    {
        var delay = TimeSpan.Zero;
        foreach (var observer in _observers)
        {
            var d = observer.GetReadDelay();
            if (d > delay)
            {
                delay = d;
            }
        }

        return delay;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void OnReceived(in ReadOnlySequence<byte> data)
    {
        foreach (var observer in _observers)
        {
            observer.OnReceived(data);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void OnSent(int count, ReadOnlySpan<byte> data)
    {
        foreach (var observer in _observers)
        {
            observer.OnSent(count, data);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public TimeSpan GetFlushDelay(long pendingBytes)
    {
        var delay = TimeSpan.Zero;
        foreach (var observer in _observers)
        {
            var d = observer.GetFlushDelay(pendingBytes);
            if (d > delay)
            {
                delay = d;
            }
        }

        return delay;
    }
}
