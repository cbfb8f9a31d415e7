using System.Net;
using System.Net.Sockets;
using KcpKestrel.Transport.Kcp.Diagnostics;
using KcpKestrel.Transport.Kcp.Io.Datagrams;
using KcpKestrel.Transport.Kcp.Io.Loops;

namespace KcpKestrel.Transport.Kcp.Tests;

/// <summary>The portable path's per-datagram work (wait, receive, address conversion, send) allocates nothing once warm.</summary>
public sealed class SocketPathAllocationTests
{
    [Fact]
    public void WaitReceiveAndEchoBack_AllocateNothing_InSteadyState()
    {
        using var loop = new KcpIoLoop("alloc-test", 2048, UdpIoMode.Socket);
        using var poller = new SocketLoopPoller(2048);
        var counters = new KcpTransportCounters();
        var echo = new EchoReceiver();
        var serverSocket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        serverSocket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using var channel = (SocketUdpChannel)poller.CreateChannel(serverSocket, echo, counters, 2048, gso: false, gro: false);
        channel.LoopIndex = 0;
        poller.Add(channel);
        using var peer = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        peer.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        peer.Connect(serverSocket.LocalEndPoint!);
        var payload = new byte[1200];
        var back = new byte[2048];

        long RoundTrips(int count)
        {
            // Only the path's calls are measured: the test's own peer socket and asserts are not the transport.
            long allocated = 0;
            for (var i = 0; i < count; i++)
            {
                peer.Send(payload);
                peer.Send(payload);
                var t0 = GC.GetAllocatedBytesForCurrentThread();
                while (echo.Received < 2)
                {
                    poller.WaitAndReceive(1000, loop);
                }

                echo.Received = 0;
                channel.FlushSends();
                allocated += GC.GetAllocatedBytesForCurrentThread() - t0;
                Assert.Equal(payload.Length, peer.Receive(back));
                Assert.Equal(payload.Length, peer.Receive(back));
            }

            return allocated;
        }

        RoundTrips(200);

        // Steady state is a window that allocates nothing. A one-off in an early window (the runtime recreating
        // its tiering worker thread on this thread, say, on a loaded machine) is not the path's; an allocation
        // per datagram would show in every window.
        var allocated = new List<long>(5);
        var roundTrips = 200;
        for (var window = 0; window < 5; window++)
        {
            allocated.Add(RoundTrips(1000));
            roundTrips += 1000;
            if (allocated[^1] == 0)
            {
                break;
            }
        }

        Assert.True(allocated[^1] == 0, $"every window allocated: {string.Join(", ", allocated)} bytes");
        Assert.Equal(2 * roundTrips, counters.DatagramsReceived);
        Assert.Equal(2 * roundTrips, counters.DatagramsSent);
        poller.Remove(channel);
    }

    private sealed class EchoReceiver : IDatagramReceiver
    {
        public int Received;

        public void OnDatagram(IDatagramChannel channel, Span<byte> datagram, ReadOnlySpan<byte> sockaddr, uint now)
        {
            Received++;
            var slot = channel.BeginSend();
            datagram.CopyTo(slot);
            channel.CommitSend(datagram.Length, sockaddr);
        }
    }
}
