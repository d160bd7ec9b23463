// Simulation core: see Topology.swift
