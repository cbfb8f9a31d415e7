
namespace KcpKestrel.Transport.Kcp.Diagnostics;

/// <summary>
/// The live listeners of one <see cref="KcpConnectionListenerFactory"/>: metric callbacks and the
/// health check read them. Binding and disposing are rare, so a lock and a copy on read are enough.
/// </summary>
internal sealed class KcpListenerRegistry
{
    private readonly Lock _lock = new();
    private IKcpListenerState[] _listeners = [];

    /// <summary>The listeners bound now (a snapshot: safe to enumerate while others bind).</summary>
    public IKcpListenerState[] Listeners => Volatile.Read(ref _listeners);

    public void Add(IKcpListenerState listener)
    {
        lock (_lock)
        {
            var next = new IKcpListenerState[_listeners.Length + 1];
            _listeners.CopyTo(next, 0);
            next[^1] = listener;
            Volatile.Write(ref _listeners, next);
        }
    }

    public void Remove(IKcpListenerState listener)
    {
        lock (_lock)
        {
            var index = Array.IndexOf(_listeners, listener);
            if (index < 0)
            {
                return;
            }

            var next = new IKcpListenerState[_listeners.Length - 1];
            Array.Copy(_listeners, 0, next, 0, index);
            Array.Copy(_listeners, index + 1, next, index, _listeners.Length - index - 1);
            Volatile.Write(ref _listeners, next);
        }
    }
}
