using System.Buffers;
using System.Diagnostics.Metrics;
using KcpKestrel.Multicast.Diagnostics;
using KcpKestrel.Protocols;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;

namespace KcpKestrel.Multicast.Bridge;

/// <summary>
/// Fans multicast topics out to Kestrel connections and publishes what they send. It is the hosted
/// transport's <see cref="IMulticastReceiver"/>: each message on a topic is copied into the queue of
/// every client connected to that topic (<see cref="BridgeClient"/>), on the receive thread and
/// without waiting. Each length-prefixed message a client writes is published on its topic and
/// handed to the other local clients of that topic (the transport does not deliver a node's own
/// messages back to it). The app's own receiver, if it registered one before the bridge, gets every
/// message and signal too.
/// </summary>
internal sealed class MulticastBridge : IMulticastReceiver
{
    private readonly BridgeClient[][] _clients = new BridgeClient[256][];
    private readonly Lock _lock = new();
    private readonly Lazy<MulticastTransport> _transport;
    private readonly MulticastBridgeOptions _options;
    private readonly int _maxMessageSize;
    private readonly IMulticastReceiver? _next;
    private long _connected;
    private long _forwarded;
    private long _dropped;
    private long _disconnected;
    private long _published;

    public MulticastBridge(Lazy<MulticastTransport> transport, IOptions<MulticastBridgeOptions> options, IOptions<MulticastOptions> multicastOptions, MulticastMetrics metrics, NextReceiver next)
    {
        _transport = transport;
        _next = next.Receiver;
        _options = options.Value;
        _options.Validate();
        _maxMessageSize = multicastOptions.Value.MaxMessageSize;
        Array.Fill(_clients, []);
        var meter = metrics.Meter;
        meter.CreateObservableUpDownCounter("kcpkestrel.multicast.bridge.clients", () => Interlocked.Read(ref _connected), "{connection}", "Kestrel connections bridged to a multicast topic now.");
        meter.CreateObservableCounter("kcpkestrel.multicast.bridge.forwarded", () => Interlocked.Read(ref _forwarded), "{message}", "Messages queued for bridged clients (one per client).");
        meter.CreateObservableCounter("kcpkestrel.multicast.bridge.dropped", () => Interlocked.Read(ref _dropped), "{message}", "Messages not queued because a client's queue was full.");
        meter.CreateObservableCounter("kcpkestrel.multicast.bridge.disconnected", () => Interlocked.Read(ref _disconnected), "{connection}", "Clients closed because they fell behind their queue limit (Overflow = Disconnect).");
        meter.CreateObservableCounter("kcpkestrel.multicast.bridge.published", () => Interlocked.Read(ref _published), "{message}", "Messages bridged clients published.");
    }

    internal long Clients => Interlocked.Read(ref _connected);

    internal long Forwarded => Interlocked.Read(ref _forwarded);

    internal long Dropped => Interlocked.Read(ref _dropped);

    internal long Disconnected => Interlocked.Read(ref _disconnected);

    internal long Published => Interlocked.Read(ref _published);

    public void OnMessage(byte topic, ReadOnlySpan<byte> message)
    {
        Forward(topic, message, except: null);
        _next?.OnMessage(topic, message);
    }

    public void OnUnrecoverable(ushort publisher, uint stream, ulong first, ulong last) => _next?.OnUnrecoverable(publisher, stream, first, last);

    public void OnPublisherGone(ushort publisher, uint stream) => _next?.OnPublisherGone(publisher, stream);

    /// <summary>Serves one connection on <paramref name="topic"/> until it closes.</summary>
    public async Task HandleAsync(ConnectionContext connection, byte topic)
    {
        var client = new BridgeClient(connection, this, _options);
        Change(topic, client, add: true);
        var writing = client.WriteLoopAsync();
        try
        {
            await ReadLoopAsync(connection, topic, client);
        }
        catch (InvalidDataException e)
        {
            connection.Abort(new ConnectionAbortedException(e.Message));
        }
        catch (Exception e) when (e is OperationCanceledException or ConnectionResetException or ConnectionAbortedException)
        {
            // The client went away.
        }
        finally
        {
            Change(topic, client, add: false);
            client.Complete();
            await writing;
        }
    }

    internal void CountForwarded() => Interlocked.Increment(ref _forwarded);

    internal void CountDropped() => Interlocked.Increment(ref _dropped);

    internal void CountDisconnected() => Interlocked.Increment(ref _disconnected);

    private async Task ReadLoopAsync(ConnectionContext connection, byte topic, BridgeClient client)
    {
        var input = connection.Transport.Input;
        while (true)
        {
            var result = await input.ReadAsync(connection.ConnectionClosed);
            var buffer = result.Buffer;
            while (LengthPrefixedProtocol.TryRead(ref buffer, out var message, _maxMessageSize))
            {
                Publish(topic, message, client);
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted || result.IsCanceled)
            {
                return;
            }
        }
    }

    private void Publish(byte topic, in ReadOnlySequence<byte> message, BridgeClient sender)
    {
        // A message split across pipe segments is copied into one pooled buffer.
        byte[]? rented = null;
        var span = message.FirstSpan;
        if (!message.IsSingleSegment)
        {
            rented = ArrayPool<byte>.Shared.Rent((int)message.Length);
            message.CopyTo(rented);
            span = rented.AsSpan(0, (int)message.Length);
        }

        try
        {
            // Offer waits (spinning) while the rate limit refuses: the client's reads slow down with it.
            _transport.Value.Offer(span, topic, flush: true);
            Interlocked.Increment(ref _published);
            Forward(topic, span, sender);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private void Forward(byte topic, ReadOnlySpan<byte> message, BridgeClient? except)
    {
        foreach (var client in Volatile.Read(ref _clients[topic]))
        {
            if (client != except)
            {
                client.Enqueue(message);
            }
        }
    }

    private void Change(byte topic, BridgeClient client, bool add)
    {
        // Copy on write: the receive thread reads the array without a lock.
        lock (_lock)
        {
            var current = _clients[topic];
            Volatile.Write(ref _clients[topic], add ? [.. current, client] : Array.FindAll(current, c => c != client));
            Interlocked.Add(ref _connected, add ? 1 : -1);
        }
    }
}
