using System.Buffers;
using System.Threading.Channels;
using KcpKestrel.Protocols;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Multicast.Bridge;

/// <summary>
/// One connected client of the bridge: a bounded queue of pooled message copies, filled by the
/// receive thread (and by other clients' publishes) without ever waiting, and drained by
/// <see cref="WriteLoopAsync"/> into the connection, length-prefixed.
/// </summary>
internal sealed class BridgeClient
{
    private readonly ConnectionContext _connection;
    private readonly Channel<Entry> _queue;
    private readonly MulticastBridgeOverflow _overflow;
    private readonly MulticastBridge _bridge;
    private int _overflowed;

    public BridgeClient(ConnectionContext connection, MulticastBridge bridge, MulticastBridgeOptions options)
    {
        _connection = connection;
        _bridge = bridge;
        _overflow = options.Overflow;
        _queue = Channel.CreateBounded<Entry>(new BoundedChannelOptions(options.QueueLimit)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite fails when full; nothing ever waits.
        });
    }

    /// <summary>Queues a copy of <paramref name="message"/>; when the queue is full applies the overflow policy.</summary>
    public void Enqueue(ReadOnlySpan<byte> message)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(message.Length, 1));
        message.CopyTo(buffer);
        if (_queue.Writer.TryWrite(new Entry(buffer, message.Length)))
        {
            _bridge.CountForwarded();
            return;
        }

        ArrayPool<byte>.Shared.Return(buffer);
        _bridge.CountDropped();
        if (_overflow == MulticastBridgeOverflow.Disconnect && Interlocked.Exchange(ref _overflowed, 1) == 0)
        {
            // Abort, not wait: the receive thread must not block on one client's socket.
            _bridge.CountDisconnected();
            _queue.Writer.TryComplete();
            _connection.Abort(new ConnectionAbortedException("The multicast bridge client fell behind its queue limit."));
        }
    }

    /// <summary>Writes queued messages to the connection until <see cref="Complete"/> or the connection ends.</summary>
    public async Task WriteLoopAsync()
    {
        var output = _connection.Transport.Output;
        var reader = _queue.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_connection.ConnectionClosed))
            {
                // Everything queued goes out in one flush: a burst costs one write, not one per message.
                while (reader.TryRead(out var entry))
                {
                    LengthPrefixedProtocol.Write(output, entry.Buffer.AsSpan(0, entry.Length));
                    ArrayPool<byte>.Shared.Return(entry.Buffer);
                }

                var flush = await output.FlushAsync(_connection.ConnectionClosed);
                if (flush.IsCompleted || flush.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ConnectionResetException or ConnectionAbortedException or InvalidOperationException)
        {
            // The connection ended under the loop.
        }
        finally
        {
            Complete();
            while (reader.TryRead(out var entry))
            {
                ArrayPool<byte>.Shared.Return(entry.Buffer);
            }
        }
    }

    /// <summary>No more messages: the write loop ends once the queue is drained.</summary>
    public void Complete() => _queue.Writer.TryComplete();

    private readonly record struct Entry(byte[] Buffer, int Length);
}
