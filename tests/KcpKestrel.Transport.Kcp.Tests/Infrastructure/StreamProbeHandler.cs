using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Transport.Kcp.Tests.Infrastructure;

/// <summary>An echo handler that records what each connection saw: its session's conv, its stream id, and how it ended.</summary>
public sealed class StreamProbeHandler : ConnectionHandler
{
    private int _failed;
    private int _closedSignals;

    public ConcurrentQueue<(uint Conv, uint StreamId)> Seen { get; } = new();

    /// <summary>Connections whose input failed (the session under them ended).</summary>
    public int Failed => Volatile.Read(ref _failed);

    /// <summary>Connections whose ConnectionClosed fired.</summary>
    public int ClosedSignals => Volatile.Read(ref _closedSignals);

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        Seen.Enqueue((connection.Features.Get<IKcpSessionFeature>()!.Conv, connection.Features.Get<IKcpStreamFeature>()!.StreamId));
        connection.ConnectionClosed.Register(() => Interlocked.Increment(ref _closedSignals));
        try
        {
            await connection.Transport.Input.CopyToAsync(connection.Transport.Output);
        }
        catch (IOException)
        {
            Interlocked.Increment(ref _failed);
        }
    }
}
