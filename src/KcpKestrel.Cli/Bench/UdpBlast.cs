using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace KcpKestrel.Cli.Bench;

/// <summary>
/// The ceiling: one thread blasts 1400-byte datagrams at a loopback socket with sendmmsg, another
/// takes them with recvmmsg; the rate of what arrives is the most any UDP protocol could carry here.
/// </summary>
internal static class UdpBlast
{
    public const int DatagramSize = 1400;
    private const int Batch = 64;

    public static async Task<BenchResult> RunAsync(TimeSpan duration, CancellationToken cancellationToken)
    {
        if (!OperatingSystem.IsLinux())
        {
            return new BenchResult { Workload = "udpblast", Transport = "udp", Ok = false, Errors = 1, Error = "udpblast needs Linux (sendmmsg/recvmmsg)" };
        }

        using var receiver = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        receiver.ReceiveBufferSize = 8 << 20;
        receiver.ReceiveTimeout = 200;
        receiver.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        sender.SendBufferSize = 8 << 20;
        sender.Connect(receiver.LocalEndPoint!);

        var stop = 0;
        long received = 0, sent = 0;
        var receiveThread = new Thread(() => received = Receive(receiver, () => Volatile.Read(ref stop) != 0)) { IsBackground = true, Name = "udpblast-rx" };
        var sendThread = new Thread(() => sent = Send(sender, () => Volatile.Read(ref stop) != 0)) { IsBackground = true, Name = "udpblast-tx" };
        receiveThread.Start();
        var start = Stopwatch.GetTimestamp();
        sendThread.Start();
        try
        {
            await Task.Delay(duration, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref stop, 1);
            sendThread.Join();
            receiveThread.Join();
        }

        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return new BenchResult
        {
            Workload = "udpblast",
            Transport = "udp",
            Bytes = received,
            Seconds = seconds,
            Ok = received > 0,
            Errors = received > 0 ? 0 : 1,
            Error = received > 0 ? null : $"nothing arrived ({sent} bytes sent)",
        };
    }

    private static unsafe long Send(Socket socket, Func<bool> stopped)
    {
        var fd = (int)socket.SafeHandle.DangerousGetHandle();
        var data = (byte*)NativeMemory.AllocZeroed(DatagramSize);
        var iov = stackalloc MmsgNative.IoVec[Batch];
        var messages = stackalloc MmsgNative.MMsgHdr[Batch];
        for (var i = 0; i < Batch; i++)
        {
            iov[i] = new MmsgNative.IoVec { Base = (nint)data, Length = DatagramSize };
            messages[i] = new MmsgNative.MMsgHdr { Header = new MmsgNative.MsgHdr { Iov = &iov[i], IovLength = 1 } };
        }

        long sent = 0;
        try
        {
            while (!stopped())
            {
                var n = MmsgNative.SendMmsg(fd, messages, Batch, 0);
                if (n > 0)
                {
                    sent += (long)n * DatagramSize;
                }
                else
                {
                    // ENOBUFS or EAGAIN: let the receiver catch up.
                    Thread.Yield();
                }
            }
        }
        finally
        {
            NativeMemory.Free(data);
        }

        return sent;
    }

    private static unsafe long Receive(Socket socket, Func<bool> stopped)
    {
        var fd = (int)socket.SafeHandle.DangerousGetHandle();
        var data = (byte*)NativeMemory.Alloc((nuint)(Batch * 2048));
        var iov = stackalloc MmsgNative.IoVec[Batch];
        var messages = stackalloc MmsgNative.MMsgHdr[Batch];
        for (var i = 0; i < Batch; i++)
        {
            iov[i] = new MmsgNative.IoVec { Base = (nint)(data + (i * 2048)), Length = 2048 };
            messages[i] = new MmsgNative.MMsgHdr { Header = new MmsgNative.MsgHdr { Iov = &iov[i], IovLength = 1 } };
        }

        long received = 0;
        try
        {
            while (!stopped())
            {
                // Blocking socket with SO_RCVTIMEO: returns at least one datagram or times out.
                var n = MmsgNative.RecvMmsg(fd, messages, Batch, MmsgNative.MsgWaitForOne, 0);
                for (var i = 0; i < n; i++)
                {
                    received += messages[i].Length;
                }
            }
        }
        finally
        {
            NativeMemory.Free(data);
        }

        return received;
    }
}
