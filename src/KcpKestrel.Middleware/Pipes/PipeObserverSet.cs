using System.Runtime.CompilerServices;
using System.Buffers;

namespace KcpKestrel.Middleware.Pipes;

/// <summary>
/// The observers of one direction of a connection's transport, behind one wrapper: reads and flushes wait for
/// the longest delay any of them asks for, and every observer sees every byte. Observers are added when a
/// middleware enters (before the connection's first read) and removed when it returns; the array is replaced,
/// never changed in place, so a reader or writer always sees a consistent set.
/// </summary>
internal sealed class PipeObserverSet : IPipeObserver
{
    private IPipeObserver[] _observers = [];

    public int Count => Volatile.Read(ref _observers).Length;

    public void Add(IPipeObserver observer)
    {
        var current = _observers;
        var larger = new IPipeObserver[current.Length + 1];
        current.CopyTo(larger, 0);
        larger[^1] = observer;
        Volatile.Write(ref _observers, larger);
    }

    public void Remove(IPipeObserver observer)
    {
        var current = _observers;
        var index = Array.IndexOf(current, observer);
        if (index < 0)
        {
            return;
        }

        var smaller = new IPipeObserver[current.Length - 1];
        Array.Copy(current, 0, smaller, 0, index);
        Array.Copy(current, index + 1, smaller, index, current.Length - index - 1);
        Volatile.Write(ref _observers, smaller);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public TimeSpan GetReadDelay()
    {
        var delay = TimeSpan.Zero;
        foreach (var observer in Volatile.Read(ref _observers))
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
        foreach (var observer in Volatile.Read(ref _observers))
        {
            observer.OnReceived(data);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void OnSent(int count, ReadOnlySpan<byte> data)
    {
        foreach (var observer in Volatile.Read(ref _observers))
        {
            observer.OnSent(count, data);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public TimeSpan GetFlushDelay(long pendingBytes)
    {
        var delay = TimeSpan.Zero;
        foreach (var observer in Volatile.Read(ref _observers))
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
