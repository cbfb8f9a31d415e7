using System.Collections.Immutable;

namespace KcpKestrel.Transport.Kcp.Diagnostics;

/// <summary>
/// The live listeners of one <see cref="KcpConnectionListenerFactory"/>: metric callbacks and the
/// health check read them. Binding and disposing are rare, so each replaces the whole (immutable) set.
/// </summary>
internal sealed class KcpListenerRegistry
{
    private ImmutableArray<IKcpListenerState> _listeners = [];

    /// <summary>The listeners bound now (a snapshot: safe to enumerate while others bind).</summary>
    public ImmutableArray<IKcpListenerState> Listeners => _listeners;

    public void Add(IKcpListenerState listener) => ImmutableInterlocked.Update(ref _listeners, static (set, l) => set.Add(l), listener);

    public void Remove(IKcpListenerState listener) => ImmutableInterlocked.Update(ref _listeners, static (set, l) => set.Remove(l), listener);
}
